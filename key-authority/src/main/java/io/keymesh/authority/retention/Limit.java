package io.keymesh.authority.retention;

import java.time.Duration;

/**
 * How long, and how many, finished values of one kind the leader keeps: a value goes once it is
 * older than {@code age}, and the oldest go beyond the newest {@code count}.
 */
public record Limit(Duration age, int count) {
    /** Shorter would risk deleting an answer before the host that asked has read it. */
    public static final Duration MIN_AGE = Duration.ofMinutes(1);

    public Limit {
        if (age == null || age.compareTo(MIN_AGE) < 0) {
            throw new IllegalArgumentException("a retention age must be at least " + MIN_AGE.toSeconds() + " s, got "
                    + (age == null ? "none" : age.toSeconds() + " s"));
        }
        if (count < 1) {
            throw new IllegalArgumentException("a retention count must be at least 1, got " + count);
        }
    }
}
