package io.keymesh.schema.record;

import java.time.Instant;

/**
 * A daemon's report at {@code status/<node>}, kept under a lease so it disappears with the daemon.
 *
 * @param appliedRevision every node record up to this etcd revision is on the device
 * @param peers           peers keymesh owns on the device
 * @param peersWithHandshake owned peers with a recent handshake
 */
public record NodeStatus(
        String node,
        long epoch,
        String version,
        long appliedRevision,
        int peers,
        int peersWithHandshake,
        Instant updatedAt) {

    public NodeStatus {
        NodeName.require(node);
        Fields.atLeast(epoch, 0, "epoch");
        Fields.text(Fields.present(version, "version"), 64, "version");
        Fields.atLeast(appliedRevision, 0, "appliedRevision");
        Fields.atLeast(peers, 0, "peers");
        Fields.atLeast(peersWithHandshake, 0, "peersWithHandshake");
        Fields.present(updatedAt, "updatedAt");
    }
}
