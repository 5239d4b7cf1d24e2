package io.keymesh.schema.verify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.JsonSignatures;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import java.util.Set;

/**
 * An enrollment request as stored at {@code enroll/<node>}: {@code tokenProof} (joins only) is a
 * signature by the join token's proof key over the request; {@code signature}, by the node's
 * identity key, covers the request and the proof.
 */
public final class SignedEnrollment {
    public static final String TOKEN_PROOF = "tokenProof";
    public static final String SIGNATURE = "signature";

    private final EnrollmentRequest request;
    private final ObjectNode tree;

    private SignedEnrollment(EnrollmentRequest request, ObjectNode tree) {
        this.request = request;
        this.tree = tree;
    }

    /** @param tokenProofKey the join token's proof key for a join; null for a rotation */
    public static byte[] sign(EnrollmentRequest request, Ed25519PrivateKey identity, Ed25519PrivateKey tokenProofKey) {
        if (!identity.publicKey().equals(request.identityKey())) {
            throw new IllegalArgumentException("the request names another identity key than the one signing it");
        }
        if ((request.kind() == EnrollmentKind.JOIN) != (tokenProofKey != null)) {
            throw new IllegalArgumentException("a join needs a token proof and a rotation must not carry one");
        }
        ObjectNode tree = Json.toTree(request);
        if (tokenProofKey != null) {
            tree = JsonSignatures.sign(tree, TOKEN_PROOF, tokenProofKey);
        }
        return Json.toLine(JsonSignatures.sign(tree, SIGNATURE, identity));
    }

    /** Parses and checks the identity signature; the token proof is checked by {@link #tokenProofMatches}. */
    public static SignedEnrollment verify(byte[] value) throws RejectedValueException {
        if (value.length > Json.MAX_VALUE_BYTES) {
            throw new RejectedValueException(RejectReason.OVERSIZED, value.length + " bytes, more than " + Json.MAX_VALUE_BYTES);
        }
        ObjectNode tree;
        EnrollmentRequest request;
        try {
            tree = Json.parseObject(value);
            request = Json.bind(tree, EnrollmentRequest.class);
        } catch (MalformedValueException e) {
            throw new RejectedValueException(RejectReason.MALFORMED, e.getMessage());
        }
        if (!request.identityKey().isFullyValid()) {
            // Where an identity enters the mesh: every record that later names it was checked here.
            throw new RejectedValueException(RejectReason.MALFORMED, "identityKey: Ed25519 public key is not a valid curve point "
                    + "(not of prime order)");
        }
        if (request.kind() != EnrollmentKind.JOIN && tree.has(TOKEN_PROOF)) {
            throw new RejectedValueException(RejectReason.MALFORMED, "a rotation request must not carry a token proof");
        }
        if (!JsonSignatures.verify(tree, SIGNATURE, Set.of(), request.identityKey())) {
            throw new RejectedValueException(RejectReason.BAD_SIGNATURE,
                    "enrollment of " + request.node() + " is not signed by the identity key it names");
        }
        return new SignedEnrollment(request, tree);
    }

    public EnrollmentRequest request() {
        return request;
    }

    public boolean tokenProofMatches(Ed25519PublicKey proofKey) {
        return JsonSignatures.verify(tree, TOKEN_PROOF, Set.of(SIGNATURE), proofKey);
    }
}
