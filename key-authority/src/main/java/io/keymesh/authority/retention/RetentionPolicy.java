package io.keymesh.authority.retention;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * What the leader keeps of the values that would otherwise pile up in etcd for ever: the audit
 * log, answered operator requests, and answered enrollments (the request and its answer).
 * Everything else is current state (node records, tombstones, claims, tokens) and is never
 * pruned; nothing still waiting for an answer is either.
 */
public record RetentionPolicy(Limit audit, Limit requests, Limit enrollments) {
    /**
     * Defaults: a month of audit events, a week of answers. The counts bound what these values
     * hold in etcd at about 42,000 keys of some 0.8 KiB each (BENCHMARKS.md, "etcd size across 100
     * rollouts"), some 34 MiB, well inside etcd's 2 GiB default quota, however busy the mesh.
     */
    public static final RetentionPolicy DEFAULT = new RetentionPolicy(
            new Limit(Duration.ofDays(30), 20_000),
            new Limit(Duration.ofDays(7), 2_000),
            new Limit(Duration.ofDays(7), 10_000));

    public RetentionPolicy {
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(requests, "requests");
        Objects.requireNonNull(enrollments, "enrollments");
    }

    /** Of each kind, what this policy lets go at {@code now}. */
    public Prunable expired(Prunable finished, Instant now) {
        return new Prunable(Retention.expired(finished.audit(), audit, now), Retention.expired(finished.requests(), requests, now),
                Retention.expired(finished.enrollments(), enrollments, now));
    }
}
