package io.keymesh.authority.admission;

import io.keymesh.authority.state.MeshView;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.schema.record.RevocationTombstone;
import java.time.Instant;
import java.util.List;

/** What the leader does with a revoke request. Pure. */
public sealed interface RevokeDecision {

    /**
     * Write the revoked record (epoch + 1, no addresses), the tombstone, and release the addresses.
     *
     * @param nodeRevision mod revision of {@code nodes/<node>} when decided
     */
    record Revoke(NodeRecord revoked, RevocationTombstone tombstone, List<String> releasedAddresses, long nodeRevision)
            implements RevokeDecision {
    }

    record Reject(Rejection reason, String detail) implements RevokeDecision {
    }

    static RevokeDecision decide(String node, MeshView view, Instant now) {
        ActiveRecord active = ActiveRecord.of(node, view);
        if (!active.found()) {
            return new Reject(active.reason(), active.detail());
        }
        NodeRecord current = active.stored().value();
        NodeRecord revoked = new NodeRecord(current.mesh(), node, current.epoch() + 1, current.serial() + 1, NodeState.REVOKED,
                current.identityKey(), current.wgPublicKey(), List.of(), List.of(), List.of(), current.keyIssuedAt(), now, null);
        RevocationTombstone tombstone = new RevocationTombstone(node, current.identityKey(), revoked.epoch(), "revoked", now);
        List<String> released = current.addresses().stream()
                .map(p -> io.keymesh.schema.record.IpAddresses.format(p.address()))
                .toList();
        return new Revoke(revoked, tombstone, released, active.stored().modRevision());
    }
}
