package io.keymesh.authority.admission;

import io.keymesh.authority.state.Stored;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RevocationTombstone;
import java.util.List;

/** What the leader does with one enrollment (a join, or the second phase of a key rotation). */
public sealed interface JoinDecision {

    /**
     * Write {@code record}, claim the addresses, store {@code tokenAfter} (one use fewer). The
     * revisions are what the transaction compares, so a concurrent change makes it retry.
     *
     * @param nodeRevision  mod revision of {@code nodes/<node>} when decided (0: absent)
     * @param tokenRevision mod revision of the token when decided
     * @param replaced      on a reprovision, the tombstone of the identity the new one replaces; else null
     * @param completes     the operator requests this admission carries out (a reprovision's), marked done with it
     * @param supersedes    other pending requests it makes void (other reprovisions of the name), marked rejected with it
     */
    record Admit(NodeRecord record, List<AddressClaim> claims, JoinToken tokenAfter,
                 long nodeRevision, long tokenRevision, RevocationTombstone replaced,
                 List<Stored<OperatorRequest>> completes, List<Stored<OperatorRequest>> supersedes) implements JoinDecision {
        public Admit {
            claims = List.copyOf(claims);
            completes = List.copyOf(completes);
            supersedes = List.copyOf(supersedes);
        }
    }

    /**
     * Phase two of a rotation: write {@code record}, the node's next epoch with its new WireGuard
     * key, and mark the rotate requests it carries out as done.
     *
     * @param markedAt when phase one (the mark) was written
     */
    record Rotate(NodeRecord record, long nodeRevision, java.time.Instant markedAt, List<Stored<OperatorRequest>> completes)
            implements JoinDecision {
        public Rotate {
            completes = List.copyOf(completes);
        }
    }

    /** The same identity and key asked again: it already has {@code record}; answer, write nothing else. */
    record AlreadyAdmitted(NodeRecord record) implements JoinDecision {
    }

    record Reject(Rejection reason, String detail) implements JoinDecision {
    }
}
