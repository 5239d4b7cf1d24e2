package io.keymesh.schema.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.testing.Samples;
import java.util.List;
import org.junit.jupiter.api.Test;

class SignedEnrollmentTest {
    private final Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
    private final JoinTokenSecret token = JoinTokenSecret.generate();
    private final EnrollmentRequest join = new EnrollmentRequest(Samples.MESH, "node-a", EnrollmentKind.JOIN,
            identity.publicKey(), WireGuardPrivateKey.generate().publicKey(),
            List.of(Endpoint.parse("192.0.2.1:51820")), token.id(), 0, Samples.NOW);

    @Test
    void aJoinVerifiesWithItsIdentityAndProvesItsToken() throws Exception {
        SignedEnrollment verified = SignedEnrollment.verify(SignedEnrollment.sign(join, identity, token.proofKey()));
        assertEquals(join, verified.request());
        assertTrue(verified.tokenProofMatches(token.proofKey().publicKey()));
        assertFalse(verified.tokenProofMatches(JoinTokenSecret.generate().proofKey().publicKey()));
    }

    @Test
    void theStoredJoinHoldsNoTokenSecret() {
        String stored = new String(SignedEnrollment.sign(join, identity, token.proofKey()));
        String secretPart = token.reveal().substring(token.reveal().indexOf('.') + 1);
        assertFalse(stored.contains(secretPart));
        assertFalse(stored.contains(token.proofKey().toBase64Secret()));
    }

    @Test
    void aChangedRequestFailsTheIdentitySignature() {
        ObjectNode tree = Json.parseObject(SignedEnrollment.sign(join, identity, token.proofKey()));
        tree.put("node", "node-b");
        assertEquals(RejectReason.BAD_SIGNATURE, assertThrows(RejectedValueException.class,
                () -> SignedEnrollment.verify(Json.toLine(tree))).reason());
    }

    @Test
    void aProofLiftedOntoAnotherRequestDoesNotMatch() throws Exception {
        // An attacker who saw one join in etcd re-signs it with their own identity: the proof no longer matches.
        ObjectNode seen = Json.parseObject(SignedEnrollment.sign(join, identity, token.proofKey()));
        Ed25519PrivateKey attacker = Ed25519PrivateKey.generate();
        seen.put("identityKey", attacker.publicKey().base64());
        ObjectNode resigned = io.keymesh.schema.crypto.JsonSignatures.sign(seen, SignedEnrollment.SIGNATURE, attacker);
        SignedEnrollment verified = SignedEnrollment.verify(Json.toLine(resigned));
        assertFalse(verified.tokenProofMatches(token.proofKey().publicKey()));
    }

    @Test
    void aRotationCarriesNoProof() throws Exception {
        EnrollmentRequest rotate = new EnrollmentRequest(Samples.MESH, "node-a", EnrollmentKind.ROTATE, identity.publicKey(),
                WireGuardPrivateKey.generate().publicKey(), List.of(), null, 3, Samples.NOW);
        SignedEnrollment verified = SignedEnrollment.verify(SignedEnrollment.sign(rotate, identity, null));
        assertEquals(rotate, verified.request());
        assertThrows(IllegalArgumentException.class, () -> SignedEnrollment.sign(rotate, identity, token.proofKey()));
    }

    @Test
    void signingWithAnotherIdentityThanTheRequestNamesIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> SignedEnrollment.sign(join, Ed25519PrivateKey.generate(), token.proofKey()));
    }

    @Test
    void anIdentityKeyThatIsNoCurvePointIsMalformedNotAnError() {
        byte[] notAPoint = new byte[32];
        java.util.Random random = new java.util.Random(7);
        do {
            random.nextBytes(notAPoint);
        } while (org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFull(notAPoint, 0));
        ObjectNode tree = Json.parseObject(SignedEnrollment.sign(join, identity, token.proofKey()));
        tree.put("identityKey", java.util.Base64.getEncoder().encodeToString(notAPoint));
        RejectedValueException e = assertThrows(RejectedValueException.class, () -> SignedEnrollment.verify(Json.toLine(tree)));
        assertEquals(RejectReason.MALFORMED, e.reason());
        assertTrue(e.getMessage().contains("not a valid curve point"), e.getMessage());
    }

    @Test
    void aFractionAnywhereIsMalformedNotAnError() {
        ObjectNode tree = Json.parseObject(SignedEnrollment.sign(join, identity, token.proofKey()));
        tree.put("extra", 1.5);
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> SignedEnrollment.verify(Json.toLine(tree))).reason());
        ObjectNode epoch = Json.parseObject(SignedEnrollment.sign(join, identity, token.proofKey()));
        epoch.put("baseEpoch", 0.5);
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> SignedEnrollment.verify(Json.toLine(epoch))).reason());
    }

    @Test
    void aRotationCarryingATokenProofIsMalformed() {
        EnrollmentRequest rotate = new EnrollmentRequest(Samples.MESH, "node-a", EnrollmentKind.ROTATE, identity.publicKey(),
                WireGuardPrivateKey.generate().publicKey(), List.of(), null, 3, Samples.NOW);
        ObjectNode tree = Json.parseObject(SignedEnrollment.sign(rotate, identity, null));
        tree.put(SignedEnrollment.TOKEN_PROOF, tree.get(SignedEnrollment.SIGNATURE).textValue());
        ObjectNode resigned = io.keymesh.schema.crypto.JsonSignatures.sign(tree, SignedEnrollment.SIGNATURE, identity);
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> SignedEnrollment.verify(Json.toLine(resigned))).reason());
    }
}
