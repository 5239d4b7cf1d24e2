package io.keymesh.daemon.status;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.IntSupplier;

/**
 * Paces the status reports that follow applies. A report after a quiet spell goes at once (a
 * single rotation is confirmed without delay); after that, at most one per interval, the last one
 * carrying the newest state. The interval grows with the mesh, one millisecond per node (at least
 * 100 ms, at most 10 s), so that during a rollout, when every daemon applies change after change,
 * the whole fleet writes about a thousand statuses a second to etcd however large it is, instead
 * of one per daemon per change. Thread-safe.
 */
public final class ReportPacer {
    static final Duration MIN_INTERVAL = Duration.ofMillis(100);
    static final Duration MAX_INTERVAL = Duration.ofSeconds(10);

    /** Runs an action later, on whatever thread reports run on. */
    public interface Timer {
        void after(Duration delay, Runnable action);
    }

    private final Clock clock;
    private final Timer timer;
    private final IntSupplier meshSize;
    private final Runnable report;
    private Instant last = Instant.EPOCH;
    private boolean scheduled;

    /**
     * @param meshSize the number of nodes in the mesh now
     * @param report   what a report is
     */
    public ReportPacer(Clock clock, Timer timer, IntSupplier meshSize, Runnable report) {
        this.clock = clock;
        this.timer = timer;
        this.meshSize = meshSize;
        this.report = report;
    }

    static Duration interval(int meshSize) {
        Duration perNode = Duration.ofMillis(meshSize);
        return perNode.compareTo(MIN_INTERVAL) < 0 ? MIN_INTERVAL : perNode.compareTo(MAX_INTERVAL) > 0 ? MAX_INTERVAL : perNode;
    }

    /** Something new to report: now, or at the end of the current interval. */
    public void request() {
        Duration wait;
        synchronized (this) {
            if (scheduled) {
                return; // the scheduled report will carry it
            }
            Instant now = clock.instant();
            Instant next = last.plus(interval(meshSize.getAsInt()));
            if (now.isBefore(next)) {
                scheduled = true;
                wait = Duration.between(now, next);
            } else {
                last = now;
                wait = null;
            }
        }
        if (wait == null) {
            report.run();
        } else {
            timer.after(wait, this::fire);
        }
    }

    private void fire() {
        synchronized (this) {
            scheduled = false;
            last = clock.instant();
        }
        report.run();
    }
}
