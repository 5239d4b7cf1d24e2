package io.keymesh.schema.record;

import java.time.Instant;
import java.util.regex.Pattern;

/**
 * The leader's answer to the enrollment at {@code enroll/<node>}, at {@code enroll-results/<node>}.
 * {@code requestDigest} names the exact request answered (hex SHA-256 of its stored bytes), so
 * the requester can tell an answer to its own request from one to an older request, and a new
 * leader can tell which requests still wait for an answer.
 *
 * @param epoch  the epoch admitted; 0 when rejected
 * @param reason a stable code such as {@code spent-token} when rejected; null when admitted
 */
public record EnrollmentResult(
        String node,
        String requestDigest,
        EnrollmentOutcome outcome,
        long epoch,
        String reason,
        String detail,
        Instant at) {
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    public EnrollmentResult {
        NodeName.require(node);
        if (requestDigest == null || !SHA256_HEX.matcher(requestDigest).matches()) {
            throw new IllegalArgumentException("requestDigest must be 64 lower-case hex digits");
        }
        Fields.present(outcome, "outcome");
        Fields.atLeast(epoch, 0, "epoch");
        if ((outcome == EnrollmentOutcome.REJECTED) != (reason != null)) {
            throw new IllegalArgumentException("a rejection needs a reason and an admission has none");
        }
        Fields.text(reason, 64, "reason");
        Fields.text(detail, 512, "detail");
        Fields.present(at, "at");
    }
}
