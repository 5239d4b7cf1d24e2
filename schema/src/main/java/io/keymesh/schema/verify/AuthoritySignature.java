package io.keymesh.schema.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.JsonSignatures;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.RevocationTombstone;
import java.util.Map;
import java.util.Set;

/**
 * Values the authority signs (node records, mesh config, tombstones): the JSON object carries
 * {@code type} and {@code keyId}, which the signature covers, and {@code signature}, over
 * everything else. The type keeps one kind of signed value from ever being read as another,
 * since one key signs them all and readers accept fields they do not know.
 */
public final class AuthoritySignature {
    public static final String TYPE = "type";
    public static final String KEY_ID = "keyId";
    public static final String SIGNATURE = "signature";

    private static final Map<Class<?>, String> TYPES = Map.of(
            NodeRecord.class, "node-record",
            MeshConfig.class, "mesh-config",
            RevocationTombstone.class, "revocation-tombstone");

    private static String typeOf(Class<?> type) {
        String name = TYPES.get(type);
        if (name == null) {
            throw new IllegalArgumentException(type.getSimpleName() + " is not a value the authority signs");
        }
        return name;
    }

    private AuthoritySignature() {
    }

    /** The signed etcd value (one line of JSON) for a record. */
    public static byte[] sign(Object record, Ed25519PrivateKey key) {
        ObjectNode tree = Json.toTree(record);
        tree.put(TYPE, typeOf(record.getClass()));
        tree.put(KEY_ID, key.publicKey().keyId());
        return Json.toLine(JsonSignatures.sign(tree, SIGNATURE, key));
    }

    /** Parses, checks the signature against the trusted keys, then binds to {@code type}. */
    public static <T> Verified<T> verify(byte[] value, Class<T> type, TrustedKeys trusted) throws RejectedValueException {
        if (value.length > Json.MAX_VALUE_BYTES) {
            throw new RejectedValueException(RejectReason.OVERSIZED,
                    value.length + " bytes, more than " + Json.MAX_VALUE_BYTES);
        }
        ObjectNode tree;
        try {
            tree = Json.parseObject(value);
        } catch (MalformedValueException e) {
            throw new RejectedValueException(RejectReason.MALFORMED, e.getMessage());
        }
        JsonNode keyIdNode = tree.get(KEY_ID);
        if (keyIdNode == null || !keyIdNode.isTextual()) {
            throw new RejectedValueException(RejectReason.MALFORMED, "no keyId");
        }
        String keyId = keyIdNode.textValue();
        Ed25519PublicKey key = trusted.byKeyId(keyId).orElseThrow(() -> new RejectedValueException(
                RejectReason.UNKNOWN_SIGNING_KEY, "signed by key " + keyId + ", which is not trusted"));
        if (!JsonSignatures.verify(tree, SIGNATURE, Set.of(), key)) {
            throw new RejectedValueException(RejectReason.BAD_SIGNATURE, "signature does not match key " + keyId);
        }
        JsonNode typeNode = tree.get(TYPE);
        String expected = typeOf(type);
        if (typeNode == null || !expected.equals(typeNode.asText())) {
            throw new RejectedValueException(RejectReason.MALFORMED, "a signed " + (typeNode == null ? "value without type" : typeNode.asText())
                    + ", not a " + expected);
        }
        T record;
        try {
            record = Json.bind(tree, type);
        } catch (MalformedValueException e) {
            // Validly signed but not a valid record: the authority's bug or a newer schema.
            throw new RejectedValueException(RejectReason.MALFORMED, e.getMessage());
        }
        return new Verified<>(record, keyId, JsonSignatures.signedBytes(tree, SIGNATURE, Set.of()));
    }
}
