package io.keymesh.authority.retention;

import java.time.Instant;
import java.util.List;

/**
 * A finished value that may be pruned: the keys that go together (an enrollment request and its
 * answer), each with the mod revision it had when read, so a value changed meanwhile is not
 * deleted; and when it finished, or null for a value that does not parse (junk, or written by a
 * newer version), which only the count limit removes, before anything readable.
 */
public record Finished(List<Stamped> keys, Instant at) {
    /** A key and the mod revision it must still have to be deleted. */
    public record Stamped(String key, long modRevision) {
    }

    public Finished {
        keys = List.copyOf(keys);
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("nothing to prune");
        }
    }

    public static Finished of(String key, long modRevision, Instant at) {
        return new Finished(List.of(new Stamped(key, modRevision)), at);
    }
}
