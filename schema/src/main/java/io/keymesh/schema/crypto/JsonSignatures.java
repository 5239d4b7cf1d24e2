package io.keymesh.schema.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keymesh.schema.json.CanonicalJson;
import java.util.Base64;
import java.util.Set;

/**
 * Ed25519 signatures carried inside a JSON object: a signature field holds the base64 signature
 * over the canonical encoding of the object without that field (and without any field signed
 * after it, named in {@code excluded}). Checks run over the tree as stored, never over a
 * re-encoded record, so fields this version does not know are still covered.
 */
public final class JsonSignatures {
    private JsonSignatures() {
    }

    /** A copy of {@code unsigned} with {@code field} set to the signature over everything else. */
    public static ObjectNode sign(ObjectNode unsigned, String field, Ed25519PrivateKey key) {
        ObjectNode signed = unsigned.deepCopy();
        signed.remove(field);
        byte[] signature = key.sign(CanonicalJson.encode(signed));
        signed.put(field, Base64.getEncoder().encodeToString(signature));
        return signed;
    }

    /** True when {@code field} holds a valid signature by {@code key} over the object without {@code excluded}. */
    public static boolean verify(ObjectNode signed, String field, Set<String> excluded, Ed25519PublicKey key) {
        JsonNode value = signed.get(field);
        if (value == null || !value.isTextual()) {
            return false;
        }
        byte[] signature;
        try {
            signature = Base64Key.decodeCanonical(value.textValue());
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] content;
        try {
            content = signedBytes(signed, field, excluded);
        } catch (IllegalArgumentException e) {
            return false; // not encodable canonically (a non-integer number): nothing valid was signed
        }
        return key.verify(content, signature);
    }

    /** The canonical bytes a signature in {@code field} covers. */
    public static byte[] signedBytes(ObjectNode signed, String field, Set<String> excluded) {
        ObjectNode content = signed.deepCopy();
        content.remove(field);
        content.remove(excluded);
        return CanonicalJson.encode(content);
    }
}
