package io.keymesh.runtime.etcd;

import io.keymesh.runtime.Errors;
import io.keymesh.runtime.DaemonThreads;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot-then-watch of one key prefix: read everything at revision R, hand it over, then
 * watch from R+1. A compacted revision or a broken watch means reading a new snapshot, never
 * resuming blindly. Everything reaches the listener in revision order, from one thread.
 */
public final class PrefixWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrefixWatch.class);
    private static final Duration MIN_RETRY = Duration.ofMillis(250);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);

    public interface Listener {
        void snapshot(List<Change> all, long revision);

        void changes(List<Change> changes, long upTo);

        /** The snapshot is handed over and the watch runs: {@link #isSynced()} is true from now on. */
        void synced();
    }

    private final Client client;
    private final ByteSequence prefix;
    private final Listener listener;
    private final ScheduledExecutorService thread =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("keymesh-prefix-watch"));
    private volatile Watch.Watcher watcher;
    private volatile boolean synced;
    private volatile boolean closed;
    private long generation;
    private Duration retry = MIN_RETRY;
    private boolean failingQuietly;

    public PrefixWatch(Client client, String prefix, Listener listener) {
        this.client = client;
        this.prefix = EtcdBytes.key(prefix);
        this.listener = listener;
    }

    public void start() {
        thread.execute(this::resync);
    }

    /** True once a snapshot has been handed over and the watch is running. */
    public boolean isSynced() {
        return synced;
    }

    private void resync() {
        if (closed) {
            return;
        }
        synced = false;
        Watch.Watcher old = watcher;
        if (old != null) {
            old.close();
        }
        long myGeneration = ++generation;
        try {
            PagedRead.Snapshot snapshot = PagedRead.prefix(client, EtcdBytes.text(prefix));
            long revision = snapshot.revision();
            List<Change> all = new ArrayList<>(snapshot.entries().size());
            for (KeyValue kv : snapshot.entries()) {
                all.add(new Change(EtcdBytes.text(kv.getKey()), kv.getValue().getBytes(), kv.getModRevision()));
            }
            listener.snapshot(all, revision);
            watcher = client.getWatchClient().watch(prefix,
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    response -> thread.execute(() -> deliver(myGeneration, response)),
                    error -> thread.execute(() -> failed(myGeneration, error)));
            synced = true;
            retry = MIN_RETRY;
            if (failingQuietly) {
                LOG.info("reading {} from etcd again (revision {})", EtcdBytes.text(prefix), revision);
                failingQuietly = false;
            }
            listener.synced();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // One line when etcd goes away, not one per retry; the etcd-connection metric says the rest.
            if (!failingQuietly) {
                LOG.warn("cannot read {} from etcd ({}); retrying with backoff up to {} s", EtcdBytes.text(prefix),
                        Errors.rootMessage(e), MAX_RETRY.toSeconds());
                failingQuietly = true;
            }
            scheduleResync();
        }
    }

    private void deliver(long forGeneration, WatchResponse response) {
        if (forGeneration != generation || closed) {
            return;
        }
        List<Change> changes = new ArrayList<>(response.getEvents().size());
        long upTo = 0;
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            String key = EtcdBytes.text(kv.getKey());
            long revision = kv.getModRevision();
            upTo = Math.max(upTo, revision);
            changes.add(event.getEventType() == WatchEvent.EventType.DELETE
                    ? Change.delete(key, revision)
                    : new Change(key, kv.getValue().getBytes(), revision));
        }
        if (!changes.isEmpty()) {
            listener.changes(changes, upTo);
        }
    }

    private void failed(long forGeneration, Throwable error) {
        if (forGeneration != generation || closed) {
            return;
        }
        if (error instanceof CompactedException) {
            LOG.info("watch on {} fell behind a compaction; reading a new snapshot", EtcdBytes.text(prefix));
        } else if (!failingQuietly) {
            LOG.warn("watch on {} failed ({}); reading a new snapshot", EtcdBytes.text(prefix), Errors.rootMessage(error));
            failingQuietly = true;
        }
        synced = false;
        scheduleResync();
    }

    private void scheduleResync() {
        if (!closed) {
            thread.schedule(this::resync, retry.toMillis(), TimeUnit.MILLISECONDS);
            retry = retry.multipliedBy(2).compareTo(MAX_RETRY) > 0 ? MAX_RETRY : retry.multipliedBy(2);
        }
    }


    @Override
    public void close() {
        closed = true;
        Watch.Watcher w = watcher;
        if (w != null) {
            w.close();
        }
        thread.shutdownNow();
    }
}
