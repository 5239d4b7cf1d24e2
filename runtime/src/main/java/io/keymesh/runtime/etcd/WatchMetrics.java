package io.keymesh.runtime.etcd;

import io.keymesh.runtime.metrics.Metrics;
import java.util.function.Supplier;

/**
 * The metrics of a program's main {@link PrefixWatch}, the same for the daemon and the authority:
 * {@code <program>_watch_resyncs_total{cause}} (the {@link PrefixWatch#RESYNC_CAUSES}) and
 * {@code <program>_watch_silence_seconds}.
 */
public final class WatchMetrics {
    private final Metrics metrics;
    private final String program;
    private final String resyncs;

    /** @param program the metric name prefix, like {@code keymesh_daemon} */
    public WatchMetrics(Metrics metrics, String program, String watched) {
        this.metrics = metrics;
        this.program = program;
        this.resyncs = program + "_watch_resyncs_total";
        metrics.describe(resyncs, "counter",
                "Snapshots of " + watched + " read again because a watch fell behind a compaction, failed, stalled "
                        + "(answered no progress request), or this process stood still (frozen or starved)");
        for (String cause : PrefixWatch.RESYNC_CAUSES) {
            metrics.add(resyncs, 0, "cause", cause);
        }
        metrics.describe(program + "_watch_silence_seconds", "gauge",
                "Seconds since the watch of " + watched + " last heard from etcd (events or a progress answer)");
    }

    /** Registers the silence gauge once the watch exists. */
    public void silence(Supplier<PrefixWatch> watch) {
        metrics.gauge(program + "_watch_silence_seconds", () -> {
            PrefixWatch w = watch.get();
            return w == null ? 0 : w.sinceHeard().toMillis() / 1000.0;
        });
    }

    public void resyncing(String cause) {
        metrics.inc(resyncs, "cause", cause);
    }
}
