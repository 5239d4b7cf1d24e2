package io.keymesh.it.testbed;

import java.time.Duration;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline: how the testbed waits, never with fixed sleeps. */
public final class Wait {
    /** A condition that may throw while it cannot be checked yet (counted as false). */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws Exception;
    }

    private Wait() {
    }

    /** Returns once {@code condition} holds; fails after {@code timeout} with {@code what} and the logs. */
    public static void until(Duration timeout, String what, Supplier<String> logs, Condition condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting until " + what + logs.get());
            }
            Thread.sleep(50);
        }
    }
}
