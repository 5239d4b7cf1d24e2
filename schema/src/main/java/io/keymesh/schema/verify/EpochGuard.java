package io.keymesh.schema.verify;

import io.keymesh.schema.record.NodeRecord;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The epoch rule a reader keeps across records: per node, the newest version seen (its epoch and
 * serial) and what it said. Versions are ordered by serial, which the authority raises on every
 * write of a record; the epoch, which only rises with a new key, must not fall either. A record
 * below the newest is a rollback (a replayed older record); a different record with the same
 * serial is an equivocation (the authority, or its key, signed two versions of one serial).
 * Either is refused and changes nothing. Pure; the daemon persists {@link #highest()} so the
 * rule survives a restart.
 */
public final class EpochGuard {
    /** The newest version seen for a node: its epoch, serial and signed content. */
    public record Seen(long epoch, long serial, byte[] content) {
        public Seen {
            content = content.clone();
        }

        @Override
        public byte[] content() {
            return content.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Seen other && epoch == other.epoch && serial == other.serial && Arrays.equals(content, other.content);
        }

        @Override
        public int hashCode() {
            return (Long.hashCode(epoch) * 31 + Long.hashCode(serial)) * 31 + Arrays.hashCode(content);
        }
    }

    private final Map<String, Seen> highest = new HashMap<>();

    public EpochGuard() {
    }

    /** Resumes from what an earlier run persisted. */
    public EpochGuard(Map<String, Seen> persisted) {
        highest.putAll(persisted);
    }

    /** Accepts a verified record (and remembers it) or refuses it with the reason. */
    public void admit(Verified<NodeRecord> verified) throws RejectedValueException {
        NodeRecord record = verified.value();
        Seen seen = highest.get(record.node());
        if (seen != null) {
            if (record.serial() < seen.serial() || record.epoch() < seen.epoch()) {
                throw new RejectedValueException(RejectReason.EPOCH_ROLLBACK, "record for " + record.node() + " at epoch "
                        + record.epoch() + " serial " + record.serial() + ", but epoch " + seen.epoch() + " serial " + seen.serial()
                        + " was already seen");
            }
            if (record.serial() == seen.serial() && !Arrays.equals(seen.content, verified.content())) {
                throw new RejectedValueException(RejectReason.EQUIVOCATION, "a second, different record for " + record.node()
                        + " at serial " + record.serial());
            }
            if (record.epoch() == seen.epoch() && record.serial() > seen.serial() && !sameKeys(seen, record)) {
                // One epoch, one key: a new version without a new epoch may change anything but the keys.
                throw new RejectedValueException(RejectReason.EQUIVOCATION, "a record for " + record.node() + " with other keys at the "
                        + "same epoch " + record.epoch());
            }
        }
        highest.put(record.node(), new Seen(record.epoch(), record.serial(), verified.content()));
    }

    private static boolean sameKeys(Seen seen, NodeRecord record) {
        NodeRecord before = io.keymesh.schema.json.Json.parse(seen.content, NodeRecord.class);
        return before.wgPublicKey().equals(record.wgPublicKey()) && before.identityKey().equals(record.identityKey());
    }

    public Optional<Seen> seen(String node) {
        return Optional.ofNullable(highest.get(node));
    }

    /** A copy of what to persist. */
    public Map<String, Seen> highest() {
        return Map.copyOf(highest);
    }
}
