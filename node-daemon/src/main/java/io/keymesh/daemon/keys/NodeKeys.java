package io.keymesh.daemon.keys;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;

/**
 * A host's two private keys: its identity (Ed25519, signs its requests) and its WireGuard key
 * (X25519). {@link #toString()} shows only public halves.
 *
 * @param generated true when this start created them (a fresh host that must join)
 */
public record NodeKeys(Ed25519PrivateKey identity, WireGuardPrivateKey wireGuard, boolean generated) {
    @Override
    public String toString() {
        return "NodeKeys[identity=" + identity.publicKey().keyId() + ", wireGuard=" + wireGuard.publicKey() + "]";
    }
}
