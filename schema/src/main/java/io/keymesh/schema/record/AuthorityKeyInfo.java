package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.time.Instant;

/**
 * An authority public key published at {@code authority/keys/<keyId>}. Informational only: trust
 * comes from the keys pinned in each daemon's configuration, never from etcd.
 */
public record AuthorityKeyInfo(String keyId, Ed25519PublicKey publicKey, boolean active, Instant createdAt) {
    public AuthorityKeyInfo {
        Fields.present(publicKey, "publicKey");
        if (!publicKey.keyId().equals(keyId)) {
            throw new IllegalArgumentException("keyId " + keyId + " does not match the public key (" + publicKey.keyId() + ")");
        }
        Fields.present(createdAt, "createdAt");
    }
}
