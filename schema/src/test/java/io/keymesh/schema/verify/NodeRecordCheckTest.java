package io.keymesh.schema.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JsonSignatures;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeRecordCheckTest {
    private final Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
    private final KeyLayout layout = KeyLayout.defaults();
    private final NodeRecordCheck check = new NodeRecordCheck(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH);
    private final NodeRecord record = Samples.nodeRecord("node-a", 4, 10);
    private final byte[] signed = AuthoritySignature.sign(record, authority);

    @Test
    void aSignedRecordAtItsOwnKeyVerifies() throws Exception {
        Verified<NodeRecord> verified = check.verify(layout.node("node-a"), signed);
        assertEquals(record, verified.value());
        assertEquals(authority.publicKey().keyId(), verified.keyId());
    }

    @Test
    void changingAnyFieldFailsVerification() {
        ObjectNode tree = Json.parseObject(signed);
        List<String> fields = new ArrayList<>();
        tree.fieldNames().forEachRemaining(fields::add);
        assertEquals(15, fields.size(), "every field of the record (but the unset rotation mark), type, keyId and signature: " + fields);
        for (String field : fields) {
            ObjectNode changed = tree.deepCopy();
            changed.set(field, mutate(tree.get(field)));
            byte[] value = Json.toLine(changed);
            RejectedValueException e = assertThrows(RejectedValueException.class,
                    () -> check.verify(layout.node("node-a"), value), "changed " + field);
            RejectReason expected = field.equals("keyId") ? RejectReason.UNKNOWN_SIGNING_KEY : RejectReason.BAD_SIGNATURE;
            assertEquals(expected, e.reason(), "changed " + field + ": " + e.getMessage());
        }
    }

    @Test
    void anAddedFieldFailsUnlessTheAuthoritySignedIt() throws Exception {
        ObjectNode tree = Json.parseObject(signed);
        tree.put("injected", "x");
        assertEquals(RejectReason.BAD_SIGNATURE, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), Json.toLine(tree))).reason());
        // The same field signed by the authority (a newer schema) is accepted and still covered.
        ObjectNode resigned = JsonSignatures.sign(tree, AuthoritySignature.SIGNATURE, authority);
        assertEquals(record, check.verify(layout.node("node-a"), Json.toLine(resigned)).value());
    }

    @Test
    void aSignatureWithPaddingBitsSetIsRefused() {
        ObjectNode tree = Json.parseObject(signed);
        String signature = tree.get(AuthoritySignature.SIGNATURE).textValue();
        // 64 bytes in 86 base64 digits leave 4 spare bits in the last digit; set one of them.
        char last = signature.charAt(85);
        String alias = signature.substring(0, 85) + (char) (last + 1) + "==";
        assertEquals(java.util.Arrays.toString(java.util.Base64.getDecoder().decode(signature)),
                java.util.Arrays.toString(java.util.Base64.getDecoder().decode(alias)), "same bytes, other text");
        tree.put(AuthoritySignature.SIGNATURE, alias);
        assertEquals(RejectReason.BAD_SIGNATURE, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), Json.toLine(tree))).reason());
    }

    @Test
    void anotherKindOfSignedValueIsNeverReadAsANodeRecord() {
        io.keymesh.schema.record.RevocationTombstone tombstone = new io.keymesh.schema.record.RevocationTombstone(
                "node-a", record.identityKey(), 4, "revoked", Samples.NOW);
        byte[] signedTombstone = AuthoritySignature.sign(tombstone, authority);
        RejectedValueException e = assertThrows(RejectedValueException.class, () -> check.verify(layout.node("node-a"), signedTombstone));
        assertEquals(RejectReason.MALFORMED, e.reason());
        assertTrue(e.getMessage().contains("a signed revocation-tombstone, not a node-record"), e.getMessage());
    }

    @Test
    void aRecordMovedToAnotherNodesKeyFailsThePathCheck() {
        RejectedValueException e = assertThrows(RejectedValueException.class, () -> check.verify(layout.node("node-b"), signed));
        assertEquals(RejectReason.WRONG_KEY_PATH, e.reason());
        assertEquals("wrong-key-path: record for node node-a is stored at /keymesh/v1/nodes/node-b, not /keymesh/v1/nodes/node-a",
                e.getMessage());
    }

    @Test
    void aRecordUnderAnotherPrefixFailsThePathCheck() {
        assertEquals(RejectReason.WRONG_KEY_PATH, assertThrows(RejectedValueException.class,
                () -> check.verify("/other/v1/nodes/node-a", signed)).reason());
    }

    @Test
    void aRecordSignedByAnUntrustedKeyIsRefused() {
        byte[] forged = AuthoritySignature.sign(record, Ed25519PrivateKey.generate());
        assertEquals(RejectReason.UNKNOWN_SIGNING_KEY, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), forged)).reason());
    }

    @Test
    void aRecordOfAnotherMeshIsRefused() {
        NodeRecordCheck otherMesh = new NodeRecordCheck(layout, TrustedKeys.of(authority.publicKey()), "other-mesh");
        assertEquals(RejectReason.WRONG_MESH, assertThrows(RejectedValueException.class,
                () -> otherMesh.verify(layout.node("node-a"), signed)).reason());
    }

    @Test
    void malformedAndOversizedValuesAreRefused() {
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), "{not json".getBytes(StandardCharsets.UTF_8))).reason());
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), "{}".getBytes(StandardCharsets.UTF_8))).reason());
        assertEquals(RejectReason.OVERSIZED, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), new byte[Json.MAX_VALUE_BYTES + 1])).reason());
    }

    @Test
    void aValidlySignedButInvalidRecordIsMalformed() {
        ObjectNode tree = Json.parseObject(signed);
        tree.put("epoch", 0);
        byte[] value = Json.toLine(JsonSignatures.sign(tree, AuthoritySignature.SIGNATURE, authority));
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), value)).reason());
    }

    @Test
    void severalTrustedKeysAllowRotatingTheAuthorityKey() throws Exception {
        Ed25519PrivateKey next = Ed25519PrivateKey.generate();
        NodeRecordCheck both = new NodeRecordCheck(layout, TrustedKeys.of(authority.publicKey(), next.publicKey()), Samples.MESH);
        assertEquals(record, both.verify(layout.node("node-a"), signed).value());
        assertEquals(next.publicKey().keyId(), both.verify(layout.node("node-a"), AuthoritySignature.sign(record, next)).keyId());
    }

    @Test
    void contentIsTheSameForTheSameRecordAndDiffersOtherwise() throws Exception {
        byte[] again = AuthoritySignature.sign(record, authority);
        byte[] content = check.verify(layout.node("node-a"), signed).content();
        assertArrayEquals(content, check.verify(layout.node("node-a"), again).content());
        NodeRecord other = new NodeRecord(record.mesh(), record.node(), record.epoch(), record.epoch(), record.state(), record.identityKey(),
                record.wgPublicKey(), List.of(), record.addresses(), record.allowedIps(), record.keyIssuedAt(), record.issuedAt(), null);
        byte[] otherContent = check.verify(layout.node("node-a"), AuthoritySignature.sign(other, authority)).content();
        assertFalse(java.util.Arrays.equals(content, otherContent), "a different record at the same epoch has other content");
    }

    @Test
    void aFractionInASignedValueIsMalformedNotAnError() {
        ObjectNode tree = Json.parseObject(signed);
        tree.put("epoch", 4.0);
        assertEquals(RejectReason.MALFORMED, assertThrows(RejectedValueException.class,
                () -> check.verify(layout.node("node-a"), Json.toLine(tree))).reason());
    }

    @Test
    void controlCharactersFromEtcdNeverReachTheMessage() {
        RejectedValueException e = assertThrows(RejectedValueException.class,
                () -> check.verify("/keymesh/v1/nodes/x\nFAKE LOG LINE", signed));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("x?FAKE LOG LINE"), e.getMessage());
    }

    private static JsonNode mutate(JsonNode value) {
        if (value.isTextual()) {
            String text = value.textValue();
            // Replace a character that carries data: in base64, the one before the last data character
            // (the last one may carry padding bits only partly).
            int padding = text.indexOf('=');
            int at = padding > 0 ? padding - 2 : text.length() - 1;
            char replacement = text.charAt(at) == 'A' ? 'B' : 'A';
            return TextNode.valueOf(text.substring(0, at) + replacement + text.substring(at + 1));
        }
        if (value.isIntegralNumber()) {
            return Json.mapper().getNodeFactory().numberNode(value.longValue() + 1);
        }
        if (value.isArray()) {
            return Json.mapper().getNodeFactory().arrayNode();
        }
        throw new AssertionError("no mutation for " + value);
    }
}
