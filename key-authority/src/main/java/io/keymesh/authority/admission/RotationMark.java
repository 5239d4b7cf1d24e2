package io.keymesh.authority.admission;

import io.keymesh.authority.state.MeshView;
import io.keymesh.authority.state.Stored;
import io.keymesh.schema.record.NodeRecord;
import java.time.Instant;
import java.util.Optional;

/**
 * Phase one of a rotation: the leader marks the node's record (same epoch and key, next serial,
 * {@code rotationRequestedAt} set); the node, seeing the mark, makes its next key and asks for it.
 * Pure.
 */
public sealed interface RotationMark {

    /** Write {@code marked} if {@code nodes/<node>} is still at {@code nodeRevision}. */
    record Mark(NodeRecord marked, long nodeRevision) implements RotationMark {
    }

    /** The record already carries a mark: the rotation is under way, nothing to write. */
    record Underway(NodeRecord current) implements RotationMark {
    }

    record Reject(Rejection reason, String detail) implements RotationMark {
    }

    static RotationMark decide(String node, MeshView view, Instant now) {
        ActiveRecord active = ActiveRecord.of(node, view);
        if (!active.found()) {
            return new Reject(active.reason(), active.detail());
        }
        NodeRecord current = active.stored().value();
        if (current.isRotationRequested()) {
            return new Underway(current);
        }
        return new Mark(marked(current, now), active.stored().modRevision());
    }

    /**
     * Automatic rotation: the active node whose WireGuard key is oldest, if older than {@code maxKeyAge}.
     * One at a time, so a fleet that joined together does not rotate all at once: nothing while
     * another rotation is under way, unless that one has waited {@code stuckAfter} already (its node
     * is probably down; it rotates when it returns).
     */
    static Optional<Mark> overdue(java.util.Collection<Stored<NodeRecord>> nodes, java.time.Duration maxKeyAge,
                                  java.time.Duration stuckAfter, Instant now) {
        Stored<NodeRecord> oldest = null;
        for (Stored<NodeRecord> stored : nodes) {
            if (!stored.isValid() || !stored.value().isActive()) {
                continue;
            }
            NodeRecord record = stored.value();
            if (record.isRotationRequested()) {
                if (record.rotationRequestedAt().plus(stuckAfter).isAfter(now)) {
                    return Optional.empty();
                }
                continue;
            }
            if (!record.keyIssuedAt().plus(maxKeyAge).isAfter(now)
                    && (oldest == null || record.keyIssuedAt().isBefore(oldest.value().keyIssuedAt()))) {
                oldest = stored;
            }
        }
        return oldest == null ? Optional.empty() : Optional.of(new Mark(marked(oldest.value(), now), oldest.modRevision()));
    }

    static NodeRecord marked(NodeRecord current, Instant now) {
        return new NodeRecord(current.mesh(), current.node(), current.epoch(), current.serial() + 1, current.state(),
                current.identityKey(), current.wgPublicKey(), current.endpoints(), current.addresses(), current.allowedIps(),
                current.keyIssuedAt(), now, now);
    }
}
