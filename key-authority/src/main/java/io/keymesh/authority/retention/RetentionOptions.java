package io.keymesh.authority.retention;

import io.keymesh.authority.cli.Durations;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The retention settings of {@code keymesh-authority} as a picocli mixin: for each kind an age
 * and a count, as flags over the YAML file's keys over {@link RetentionPolicy#DEFAULT}.
 */
public final class RetentionOptions {
    @Option(names = "--audit-retention", paramLabel = "DURATION", description = "keep audit events this long (default 30d)")
    String auditAge;

    @Option(names = "--audit-retention-count", paramLabel = "N", description = "keep at most the newest N audit events (default 20000)")
    Integer auditCount;

    @Option(names = "--request-retention", paramLabel = "DURATION",
            description = "keep answered operator requests this long after their answer (default 7d)")
    String requestAge;

    @Option(names = "--request-retention-count", paramLabel = "N",
            description = "keep at most the newest N answered operator requests (default 2000)")
    Integer requestCount;

    @Option(names = "--enroll-retention", paramLabel = "DURATION",
            description = "keep answered enrollments (request and answer) this long after the answer (default 7d)")
    String enrollAge;

    @Option(names = "--enroll-retention-count", paramLabel = "N",
            description = "keep at most the newest N answered enrollments (default 10000)")
    Integer enrollCount;

    /** The retention settings a configuration file can carry. */
    public interface FileSettings {
        String auditRetention();

        Integer auditRetentionCount();

        String requestRetention();

        Integer requestRetentionCount();

        String enrollRetention();

        Integer enrollRetentionCount();
    }

    public RetentionPolicy policy(FileSettings file) {
        RetentionPolicy defaults = RetentionPolicy.DEFAULT;
        return new RetentionPolicy(
                limit("audit", auditAge, file.auditRetention(), auditCount, file.auditRetentionCount(), defaults.audit()),
                limit("request", requestAge, file.requestRetention(), requestCount, file.requestRetentionCount(), defaults.requests()),
                limit("enroll", enrollAge, file.enrollRetention(), enrollCount, file.enrollRetentionCount(), defaults.enrollments()));
    }

    private static Limit limit(String kind, String flagAge, String fileAge, Integer flagCount, Integer fileCount, Limit defaults) {
        String age = flagAge != null ? flagAge : fileAge;
        Integer count = flagCount != null ? flagCount : fileCount;
        try {
            return new Limit(age == null ? defaults.age() : new Durations().convert(age), count == null ? defaults.count() : count);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(kind + "Retention (--" + kind + "-retention, --" + kind + "-retention-count): "
                    + e.getMessage(), e);
        }
    }

    /** For logs: {@code audit 30d/20000, requests 7d/2000, enrollments 7d/10000}. */
    public static String describe(RetentionPolicy policy) {
        return "audit " + text(policy.audit()) + ", requests " + text(policy.requests()) + ", enrollments " + text(policy.enrollments());
    }

    private static String text(Limit limit) {
        Duration age = limit.age();
        return (age.toSeconds() % 86_400 == 0 ? age.toDays() + "d" : age.toSeconds() % 3600 == 0 ? age.toHours() + "h"
                : age.toMinutes() + "m") + "/" + limit.count();
    }
}
