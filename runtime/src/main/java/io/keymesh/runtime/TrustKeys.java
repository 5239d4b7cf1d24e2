package io.keymesh.runtime;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.util.ArrayList;
import java.util.List;

/** Authority public keys as operators write them ({@code --trust-key}, {@code trustedKeys}). */
public final class TrustKeys {
    private TrustKeys() {
    }

    /** Parses each; a bad one is an error naming it. */
    public static List<Ed25519PublicKey> parse(List<String> values) {
        List<Ed25519PublicKey> keys = new ArrayList<>();
        for (String value : values) {
            try {
                Ed25519PublicKey key = Ed25519PublicKey.parse(value);
                if (!key.isFullyValid()) {
                    throw new IllegalArgumentException("not a valid curve point (not of prime order)");
                }
                keys.add(key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("trust key '" + value + "' is not an authority public key: " + e.getMessage());
            }
        }
        return keys;
    }
}
