package io.keymesh.daemon.reconcile;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.NodeRecord;

/** Who this host is: its node name and the public halves of its keys. */
public record Identity(String node, Ed25519PublicKey identityKey, WireGuardPublicKey wgPublicKey) {
    /** Whether {@code record} admits this very host (same name and both keys), not just a host of the same name. */
    public boolean isAdmittedBy(NodeRecord record) {
        return record != null && record.node().equals(node) && record.identityKey().equals(identityKey)
                && record.wgPublicKey().equals(wgPublicKey) && record.isActive();
    }

    /** The same host with another WireGuard key (the next one, during a rotation). */
    public Identity withKey(WireGuardPublicKey key) {
        return new Identity(node, identityKey, key);
    }

    /** Whether {@code record} is this host's identity, revoked. */
    public boolean isRevokedBy(NodeRecord record) {
        return record != null && record.node().equals(node) && record.identityKey().equals(identityKey)
                && record.state() == io.keymesh.schema.record.NodeState.REVOKED;
    }
}
