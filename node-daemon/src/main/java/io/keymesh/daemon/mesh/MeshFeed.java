package io.keymesh.daemon.mesh;

import io.etcd.jetcd.Client;
import io.keymesh.daemon.state.StateFile;
import io.keymesh.runtime.etcd.Change;
import io.keymesh.runtime.etcd.EtcdOutage;
import io.keymesh.runtime.etcd.PrefixWatch;
import io.keymesh.runtime.etcd.WatchMetrics;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.verify.RejectReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the verified mesh from etcd: a snapshot-then-watch of {@code nodes/} and one of the
 * {@code config} key, each on its own thread (never an event loop, since checking thousands of
 * signatures takes a while). After every batch the new verified snapshot goes to the consumer;
 * every refused value is logged once and counted by reason.
 */
public final class MeshFeed implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MeshFeed.class);
    private static final int LOGGED_PER_BATCH = 10;

    private final VerifiedMesh mesh;
    private final KeyLayout layout;
    private final Metrics metrics;
    private final Consumer<MeshSnapshot> consumer;
    private final Runnable nodesSynced;
    private final WatchMetrics watchMetrics;
    private volatile long received;
    private PrefixWatch nodesWatch;
    private PrefixWatch configWatch;

    /**
     * @param nodesSynced called (on the feed's thread) after each full read of {@code nodes/}
     */
    public MeshFeed(VerifiedMesh mesh, KeyLayout layout, Metrics metrics, Consumer<MeshSnapshot> consumer, Runnable nodesSynced) {
        this.mesh = mesh;
        this.layout = layout;
        this.metrics = metrics;
        this.consumer = consumer;
        this.nodesSynced = nodesSynced;
        metrics.describe("keymesh_daemon_refused_records_total", "counter", "Values from etcd refused, by reason; none was applied");
        metrics.describe("keymesh_daemon_etcd_connected", "gauge", "1 while the node records are read and watched from etcd");
        this.watchMetrics = new WatchMetrics(metrics, "keymesh_daemon", "the node records and mesh config");
        for (RejectReason reason : RejectReason.values()) {
            metrics.add("keymesh_daemon_refused_records_total", 0, "reason", reason.code());
        }
    }

    /** Restores what the state file holds, re-verified against today's pinned keys; returns the snapshot. */
    public synchronized MeshSnapshot restore(StateFile.Saved saved) {
        List<Change> records = new ArrayList<>();
        saved.records().forEach((key, value) -> records.add(new Change(key, value, saved.revision())));
        report(mesh.changes(records, saved.revision()));
        if (saved.config() != null) {
            mesh.config(saved.config()).ifPresent(refusal -> report(List.of(refusal)));
        }
        return mesh.view();
    }

    public void start(Client client, PrefixWatch.Liveness liveness) {
        start(client, liveness, null);
    }

    /** @param outage says once, for both watches, that etcd does not answer (null: each watch says it itself) */
    public void start(Client client, PrefixWatch.Liveness liveness, EtcdOutage outage) {
        nodesWatch = new PrefixWatch(client, layout.directory(KeyLayout.Kind.NODE), liveness, outage, new PrefixWatch.Listener() {
            @Override
            public void snapshot(List<Change> all, long revision) {
                publish(() -> mesh.snapshot(all, revision));
            }

            @Override
            public void changes(List<Change> changes, long upTo) {
                publish(() -> mesh.changes(changes, upTo));
            }

            @Override
            public void synced() {
                nodesSynced.run();
            }

            @Override
            public void resyncing(String cause) {
                watchMetrics.resyncing(cause);
            }
        });
        String configKey = layout.config();
        configWatch = new PrefixWatch(client, configKey, liveness, outage, new PrefixWatch.Listener() {
            @Override
            public void snapshot(List<Change> all, long revision) {
                all.stream().filter(c -> c.key().equals(configKey)).forEach(this::one);
            }

            @Override
            public void changes(List<Change> changes, long upTo) {
                changes.stream().filter(c -> c.key().equals(configKey)).forEach(this::one);
            }

            private void one(Change change) {
                publish(() -> mesh.config(change.value()).map(List::of).orElse(List.of()));
            }

            @Override
            public void synced() {
            }

            @Override
            public void resyncing(String cause) {
                watchMetrics.resyncing(cause);
            }
        });
        metrics.gauge("keymesh_daemon_etcd_connected", () -> nodesWatch.isSynced() ? 1 : 0);
        watchMetrics.silence(() -> nodesWatch);
        nodesWatch.start();
        configWatch.start();
    }

    /**
     * Why this feed cannot be trusted to follow etcd now, or empty when it can: both watches
     * synced and answering. A watch that is not synced (etcd unreachable, a snapshot being read)
     * is tolerated for {@code grace}, since a restart or a short etcd outage should not page
     * anyone; a watch that is synced but silent or frozen is not.
     */
    public java.util.Optional<String> notFollowing(java.time.Duration grace) {
        for (PrefixWatch watch : new PrefixWatch[] {nodesWatch, configWatch}) {
            if (watch == null) {
                return java.util.Optional.of("not reading etcd yet");
            }
            if (watch.isDoubtful()) {
                // Not a reconnect that the grace covers: what the watch missed is unknown until the read ends.
                return java.util.Optional.of("reading the mesh again: this process stood still, or its watch went silent");
            }
            if (!watch.isSynced()) {
                if (watch.unsyncedFor().compareTo(grace) > 0) {
                    return java.util.Optional.of("cannot read the mesh from etcd for " + watch.unsyncedFor().toSeconds() + " s");
                }
            } else if (!watch.isFollowing()) {
                return java.util.Optional.of("the watch on etcd is not answering (silent for " + watch.sinceHeard().toSeconds()
                        + " s); reading the mesh again");
            }
        }
        return java.util.Optional.empty();
    }

    /** The verified mesh now (possibly newer than what the device has). */
    public synchronized MeshSnapshot current() {
        return mesh.view();
    }

    /**
     * Applies one step and hands the result on, both under the lock: the two watch threads
     * publish in the order they applied, so an older snapshot can never overtake a newer one.
     */
    private synchronized void publish(java.util.function.Supplier<List<Refusal>> step) {
        report(step.get());
        MeshSnapshot view = mesh.view();
        consumer.accept(view);
        received = view.revision();
    }

    /** The revision of the newest records received and verified (read without the lock, for metrics). */
    public long receivedRevision() {
        return received;
    }

    private void report(List<Refusal> refusals) {
        refusals.forEach(r -> metrics.inc("keymesh_daemon_refused_records_total", "reason", r.reason().code()));
        for (LogLine line : logLines(refusals)) {
            if (line.alarm()) {
                LOG.error(line.text());
            } else {
                LOG.warn(line.text());
            }
        }
    }

    /** A line to log about refused values; an alarm is logged at error level. */
    record LogLine(boolean alarm, String text) {
    }

    /**
     * The lines for the values refused in one read: a line each for the first
     * {@value #LOGGED_PER_BATCH}, then one summary by reason, so a prefix stuffed with thousands of
     * junk keys does not cost every daemon thousands of log lines at every start. An equivocation
     * always gets its own line: two different records signed for one epoch mean the authority, or
     * its key, misbehaved.
     */
    static List<LogLine> logLines(List<Refusal> refusals) {
        List<LogLine> lines = new ArrayList<>();
        Map<String, Integer> summarized = new java.util.TreeMap<>();
        int itemized = 0;
        for (Refusal refusal : refusals) {
            if (refusal.reason() == RejectReason.EQUIVOCATION) {
                lines.add(new LogLine(true, "ALARM: refused " + refusal.key() + ": " + refusal.detail()
                        + "; the authority signed two versions of one epoch, check its key"));
            } else if (itemized < LOGGED_PER_BATCH) {
                lines.add(new LogLine(false, "refused " + refusal.key() + ": " + refusal.detail()));
                itemized++;
            } else {
                summarized.merge(refusal.reason().code(), 1, Integer::sum);
            }
        }
        if (!summarized.isEmpty()) {
            lines.add(new LogLine(false, "refused " + summarized.values().stream().mapToInt(Integer::intValue).sum() + " more values "
                    + summarized + "; none was applied, each is counted in keymesh_daemon_refused_records_total"));
        }
        return lines;
    }

    /** What the state file should hold now, with the peers keymesh owns on the device. */
    public synchronized StateFile.Saved saved(Set<WireGuardPublicKey> owned) {
        return new StateFile.Saved(mesh.revision(), mesh.storedRecords(), mesh.storedConfig(), mesh.highestSeen(), owned);
    }

    @Override
    public void close() {
        if (nodesWatch != null) {
            nodesWatch.close();
        }
        if (configWatch != null) {
            configWatch.close();
        }
    }
}
