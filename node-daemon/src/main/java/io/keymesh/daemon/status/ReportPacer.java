package io.keymesh.daemon.status;

import java.time.Duration;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Paces status reports. A daemon reports after each apply (rollouts wait on its applied revision)
 * and every few seconds (to renew its lease); during a rollout every daemon applies change after
 * change, and one write per daemon per change would make a rollout of N nodes cost N² etcd writes.
 * So at most two reports go out per interval, at once while that holds (a rotation's mark and its
 * commit are both confirmed without delay), else one at the end of the interval, carrying the
 * newest state. The interval is 2 ms per node in the mesh (200 ms to 10 s): the whole fleet writes
 * about a thousand statuses a second during a rollout up to 5,000 nodes, and two per daemon per
 * 10 s beyond. Thread-safe.
 */
public final class ReportPacer {
    static final Duration MIN_INTERVAL = Duration.ofMillis(200);
    static final Duration MAX_INTERVAL = Duration.ofSeconds(10);

    /** Runs an action later, on whatever thread reports run on; may throw once it is closed. */
    public interface Timer {
        void after(Duration delay, Runnable action);
    }

    private final LongSupplier nanoTime;
    private final Timer timer;
    private final IntSupplier meshSize;
    private final Runnable report;
    /** When the last two reports went out (nanoTime), the older first. */
    private long previous = Long.MIN_VALUE / 2;
    private long last = Long.MIN_VALUE / 2;
    private boolean scheduled;

    /**
     * @param nanoTime a monotonic clock ({@code System::nanoTime}): a wall clock stepping back must not stall reports
     * @param meshSize the number of nodes in the mesh now
     * @param report   what a report is
     */
    public ReportPacer(LongSupplier nanoTime, Timer timer, IntSupplier meshSize, Runnable report) {
        this.nanoTime = nanoTime;
        this.timer = timer;
        this.meshSize = meshSize;
        this.report = report;
    }

    static Duration interval(int meshSize) {
        Duration perNode = Duration.ofMillis(2L * meshSize);
        return perNode.compareTo(MIN_INTERVAL) < 0 ? MIN_INTERVAL : perNode.compareTo(MAX_INTERVAL) > 0 ? MAX_INTERVAL : perNode;
    }

    /** Something new to report: now, or at the end of the current interval. */
    public void request() {
        long wait;
        synchronized (this) {
            if (scheduled) {
                return; // the scheduled report will carry it
            }
            long now = nanoTime.getAsLong();
            long next = previous + interval(meshSize.getAsInt()).toNanos();
            if (now - next < 0) {
                scheduled = true;
                wait = next - now;
            } else {
                sent(now);
                wait = -1;
            }
        }
        if (wait < 0) {
            report.run();
            return;
        }
        try {
            timer.after(Duration.ofNanos(wait), this::fire);
        } catch (RuntimeException e) {
            synchronized (this) {
                scheduled = false; // closing: nothing more to report
            }
        }
    }

    private void sent(long at) {
        previous = last;
        last = at;
    }

    private void fire() {
        synchronized (this) {
            scheduled = false;
            sent(nanoTime.getAsLong());
        }
        report.run();
    }
}
