package io.keymesh.authority.retention;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Which finished values one limit lets go (pure: the leader reads them, deletes them, and counts). */
public final class Retention {
    /** Unreadable values first, then oldest first; ties by key, so every replica picks the same. */
    private static final Comparator<Finished> OLDEST_FIRST = Comparator
            .comparing(Finished::at, Comparator.nullsFirst(Comparator.naturalOrder()))
            .thenComparing(f -> f.keys().get(0).key());

    private Retention() {
    }

    /**
     * The values to delete, oldest first: those finished before {@code now - age}, and the oldest
     * beyond the newest {@code count}.
     */
    public static List<Finished> expired(List<Finished> finished, Limit limit, Instant now) {
        List<Finished> sorted = new ArrayList<>(finished);
        sorted.sort(OLDEST_FIRST);
        Instant cutoff = now.minus(limit.age());
        int overCount = Math.max(0, sorted.size() - limit.count());
        List<Finished> expired = new ArrayList<>();
        for (int i = 0; i < sorted.size(); i++) {
            Finished f = sorted.get(i);
            if (i < overCount || (f.at() != null && f.at().isBefore(cutoff))) {
                expired.add(f);
            }
        }
        return expired;
    }
}
