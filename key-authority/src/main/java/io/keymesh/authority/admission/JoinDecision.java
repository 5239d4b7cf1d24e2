package io.keymesh.authority.admission;

import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import java.util.List;

/** What the leader does with one enrollment. */
public sealed interface JoinDecision {

    /**
     * Write {@code record}, claim the addresses, store {@code tokenAfter} (one use fewer). The
     * revisions are what the transaction compares, so a concurrent change makes it retry.
     *
     * @param nodeRevision  mod revision of {@code nodes/<node>} when decided (0: absent)
     * @param tokenRevision mod revision of the token when decided
     */
    record Admit(NodeRecord record, List<AddressClaim> claims, JoinToken tokenAfter,
                 long nodeRevision, long tokenRevision) implements JoinDecision {
    }

    /** The same identity and key asked again: it already has {@code record}; answer, write nothing else. */
    record AlreadyAdmitted(NodeRecord record) implements JoinDecision {
    }

    record Reject(Rejection reason, String detail) implements JoinDecision {
    }
}
