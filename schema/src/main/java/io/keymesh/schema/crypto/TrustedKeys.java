package io.keymesh.schema.crypto;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The authority public keys a reader pins, by key id. Several may be trusted at once so the
 * authority's own key can be rotated: sign with the new one while readers trust both.
 */
public final class TrustedKeys {
    private final Map<String, Ed25519PublicKey> byId;

    private TrustedKeys(Map<String, Ed25519PublicKey> byId) {
        this.byId = byId;
    }

    public static TrustedKeys of(Collection<Ed25519PublicKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("at least one trusted authority key is needed");
        }
        Map<String, Ed25519PublicKey> byId = new LinkedHashMap<>();
        for (Ed25519PublicKey key : keys) {
            byId.put(key.keyId(), key);
        }
        return new TrustedKeys(Map.copyOf(byId));
    }

    public static TrustedKeys of(Ed25519PublicKey... keys) {
        return of(java.util.List.of(keys));
    }

    public Optional<Ed25519PublicKey> byKeyId(String keyId) {
        return Optional.ofNullable(byId.get(keyId));
    }

    @Override
    public String toString() {
        return "TrustedKeys" + byId.keySet();
    }
}
