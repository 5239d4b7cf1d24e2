package io.keymesh.daemon.keys;

import io.keymesh.schema.crypto.Ed25519PrivateKey;

/**
 * A host's private keys: its identity (Ed25519, signs its requests) and its WireGuard keys
 * (X25519; the current one, and the next during a rotation). {@link #toString()} shows only
 * public halves.
 *
 * @param generated true when this start created them (a fresh host that must join)
 */
public record NodeKeys(Ed25519PrivateKey identity, WireGuardKeys wireGuard, boolean generated) {
    @Override
    public String toString() {
        return "NodeKeys[identity=" + identity.publicKey().keyId() + ", wireGuard=" + wireGuard.current().publicKey() + "]";
    }
}
