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
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Snapshot-then-watch of one key prefix: read everything at revision R, hand it over, then
 * watch from R+1. A compacted revision or a broken watch means reading a new snapshot, never
 * resuming blindly. Everything reaches the listener in revision order, from one thread.
 *
 * <p>A watch can also go silent, or skip events, without any error reaching this class. etcd
 * before 3.4.31 and 3.5.13 can lose the compaction cancel of a watcher that fell behind (its
 * send buffer full, as after this process stood still): it moves the watcher on to the current
 * revision and the events in between are never sent (etcd-io/etcd#17529, fixed by #17555; the
 * 3.4 backport is #17610). Nothing on the stream shows it, and on etcd 3.4 a progress request is
 * answered with the store's revision whatever the watch has sent. So: a check that runs much
 * later than it was due (this process was frozen, or starved of CPU) reads a new snapshot at
 * once; and every {@link Liveness#progressEvery} the watch asks etcd for a progress notification
 * on its own stream ({@code Watcher.requestProgress}): a watch that has answered nothing, neither
 * events nor progress, within {@link Liveness#answerWithin} is dead or stuck, and is torn down and
 * resynced from a snapshot. A stream that ends without an error is resynced too.
 */
public final class PrefixWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PrefixWatch.class);
    private static final Duration MIN_RETRY = Duration.ofMillis(250);
    private static final Duration MAX_RETRY = Duration.ofSeconds(5);
    /** Why a watch reads a new snapshot, as {@link Listener#resyncing} reports it (and metrics label it). */
    public static final String COMPACTED = "compacted";
    public static final String FAILED = "failed";
    public static final String STALLED = "stalled";
    public static final String STOOD_STILL = "stood-still";
    public static final List<String> RESYNC_CAUSES = List.of(COMPACTED, FAILED, STALLED, STOOD_STILL);
    /** A check this much later than due means this process stood still meanwhile. */
    private static final long LATE_NANOS = Duration.ofSeconds(1).toNanos();

    public interface Listener {
        void snapshot(List<Change> all, long revision);

        void changes(List<Change> changes, long upTo);

        /** The snapshot is handed over and the watch runs: {@link #isSynced()} is true from now on. */
        void synced();

        /** A new snapshot is about to be read because of {@code cause}, one of {@link #RESYNC_CAUSES}. */
        default void resyncing(String cause) {
        }
    }

    /**
     * How the watch is checked: a progress request every {@code progressEvery} (one small message
     * on the watch's stream, no read, no write), and a resync when nothing answers within {@code
     * answerWithin}. A revocation made while this process was frozen or cut off is applied within
     * about {@code answerWithin} plus a snapshot read of being able to reach etcd again.
     */
    public record Liveness(Duration progressEvery, Duration answerWithin) {
        public static final Liveness DEFAULT = new Liveness(Duration.ofSeconds(10), Duration.ofSeconds(3));

        public Liveness {
            if (progressEvery.compareTo(answerWithin) <= 0 || answerWithin.isNegative() || answerWithin.isZero()) {
                throw new IllegalArgumentException("the watch progress interval (" + progressEvery.toMillis()
                        + " ms) must be longer than the time allowed for an answer (" + answerWithin.toMillis() + " ms), which must be positive");
            }
        }
    }

    private final Client client;
    private final ByteSequence prefix;
    private final Listener listener;
    private final Liveness liveness;
    private final EtcdOutage outage;
    private final ScheduledExecutorService thread =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("keymesh-prefix-watch"));
    private volatile Watch.Watcher watcher;
    private volatile boolean synced;
    private volatile boolean closed;
    private long generation;
    private Duration retry = MIN_RETRY;
    private boolean failingQuietly;
    /** Nanotime of the last response of the current watch (events or progress), or of its start. */
    private volatile long lastHeard;
    /** Nanotime of the outstanding progress request; not later than {@link #lastHeard} once answered. */
    private volatile long asked;
    /** Nanotime by which the next check is due: a check much later than this means this process stood still. */
    private volatile long checkDue;
    /** True from a stall or a late check (this process stood still) until a fresh snapshot is read. */
    private volatile boolean doubtful;
    /** Set while a chain of {@link #nudgeReconnect} runs; one chain at a time. */
    private final java.util.concurrent.atomic.AtomicBoolean nudging = new java.util.concurrent.atomic.AtomicBoolean();
    /** Nanotime since which the watch has not been synced (from its start), or 0 while synced. */
    private volatile long unsyncedSince = System.nanoTime();

    public PrefixWatch(Client client, String prefix, Listener listener) {
        this(client, prefix, Liveness.DEFAULT, listener);
    }

    public PrefixWatch(Client client, String prefix, Liveness liveness, Listener listener) {
        this(client, prefix, liveness, null, listener);
    }

    /**
     * @param outage says, early and once for all the program's watches, that etcd does not answer
     *               (null: this watch says it itself when a read times out, naming no endpoint)
     */
    public PrefixWatch(Client client, String prefix, Liveness liveness, EtcdOutage outage, Listener listener) {
        this.client = client;
        this.prefix = EtcdBytes.key(prefix);
        this.liveness = liveness;
        this.outage = outage;
        this.listener = listener;
    }

    public void start() {
        thread.execute(this::resync);
    }

    /** True once a snapshot has been handed over and the watch is running. */
    public boolean isSynced() {
        return synced;
    }

    /**
     * True when the watch follows etcd as far as this process can tell: synced, its checks on
     * time, and no progress request left unanswered past {@link Liveness#answerWithin}.
     */
    public boolean isFollowing() {
        long now = System.nanoTime();
        return synced && !doubtful && now - checkDue <= LATE_NANOS
                && !(asked - lastHeard > 0 && now - asked > liveness.answerWithin().toNanos());
    }

    /**
     * True from the moment this watch is known to have missed something it cannot name (its
     * process stood still, or it answered no progress request) until a fresh snapshot is read:
     * unlike a watch merely being (re)connected, such a watch must not be trusted at all.
     */
    public boolean isDoubtful() {
        return doubtful;
    }

    /** How long the watch has not been synced (etcd unreachable, or a snapshot being read); zero while it is. */
    public Duration unsyncedFor() {
        long since = unsyncedSince;
        return since == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - since);
    }

    /** Time since the watch last heard from etcd (an event, a progress answer, or its start). */
    public Duration sinceHeard() {
        return Duration.ofNanos(System.nanoTime() - lastHeard);
    }

    private void resync() {
        if (closed) {
            return;
        }
        unsynced();
        Watch.Watcher old = watcher;
        if (old != null) {
            old.close();
        }
        long myGeneration = ++generation;
        try {
            PagedRead.Snapshot snapshot = outage == null ? PagedRead.prefix(client, EtcdBytes.text(prefix))
                    : PagedRead.prefix(client, EtcdBytes.text(prefix), page -> outage.await(page, PagedRead.TIMEOUT));
            long revision = snapshot.revision();
            List<Change> all = new ArrayList<>(snapshot.entries().size());
            for (KeyValue kv : snapshot.entries()) {
                all.add(new Change(EtcdBytes.text(kv.getKey()), kv.getValue().getBytes(), kv.getModRevision()));
            }
            listener.snapshot(all, revision);
            watcher = client.getWatchClient().watch(prefix,
                    WatchOption.builder().isPrefix(true).withRevision(revision + 1).build(),
                    response -> thread.execute(() -> deliver(myGeneration, response)),
                    error -> thread.execute(() -> failed(myGeneration, error)),
                    () -> thread.execute(() -> failed(myGeneration, new IllegalStateException("etcd ended the watch stream"))));
            long now = System.nanoTime();
            lastHeard = now;
            asked = now;
            doubtful = false;
            scheduleCheck(myGeneration, liveness.progressEvery(), this::ask);
            synced = true;
            unsyncedSince = 0;
            retry = MIN_RETRY;
            if (failingQuietly) {
                LOG.info("reading {} from etcd again (revision {})", EtcdBytes.text(prefix), revision);
                failingQuietly = false;
            }
            listener.synced();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // One line when etcd goes away, not one per retry; the etcd-connection metric says the rest. No answer at
            // all was said by the outage reporter already, naming the endpoints and the cause, while the read waited.
            if (!failingQuietly && !(outage != null && e instanceof TimeoutException)) {
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
        lastHeard = System.nanoTime(); // events or a progress answer: the watch is alive
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
        listener.resyncing(error instanceof CompactedException ? COMPACTED : FAILED);
        unsynced();
        // jetcd resumes a failed watch by itself, possibly past events it skipped: nothing more from it counts.
        generation++;
        Watch.Watcher old = watcher;
        if (old != null) {
            old.close();
        }
        scheduleResync();
    }

    /** Asks etcd for a progress notification on the watch's stream, then checks for the answer. */
    private void ask(long forGeneration) {
        long now = System.nanoTime();
        if (now - checkDue > LATE_NANOS) {
            stoodStill(now);
            return;
        }
        asked = now;
        watcher.requestProgress();
        scheduleCheck(forGeneration, liveness.answerWithin(), this::judge);
    }

    /** A watch that has answered nothing since the request is dead or far behind: read a new snapshot. */
    private void judge(long forGeneration) {
        long now = System.nanoTime();
        if (now - checkDue > LATE_NANOS) {
            stoodStill(now);
            return;
        }
        if (lastHeard - asked >= 0) {
            doubtful = false;
            scheduleCheck(forGeneration, liveness.progressEvery().minus(liveness.answerWithin()), this::ask);
            return;
        }
        LOG.warn("watch on {} answered nothing for {} ms after a progress request: dead or far behind etcd; reading a new snapshot",
                EtcdBytes.text(prefix), Duration.ofNanos(now - asked).toMillis());
        doubtful = true;
        listener.resyncing(STALLED);
        resync();
    }

    /**
     * This process stood still (frozen, or starved of CPU) while etcd went on: the watch may have
     * fallen behind and lost events without a word (see the class comment), so read it anew.
     */
    private void stoodStill(long now) {
        doubtful = true;
        LOG.info("this process stood still for about {} s; reading {} from etcd again", Duration.ofNanos(now - checkDue).toSeconds(),
                EtcdBytes.text(prefix));
        listener.resyncing(STOOD_STILL);
        resync();
    }

    private void unsynced() {
        if (synced || unsyncedSince == 0) {
            unsyncedSince = System.nanoTime();
        }
        synced = false;
        if (nudging.compareAndSet(false, true)) {
            nudgeReconnect();
        }
    }

    /**
     * While this watch cannot read etcd, asks the client's channel every second to connect now
     * rather than after gRPC's own backoff, which grows to 2 minutes over a long partition: the
     * read this watch is waiting on then goes out within about a second (plus a connection, at most
     * {@link EtcdClients#CONNECT_TIMEOUT}) of the network coming back. Off the watch's thread,
     * which is blocked in that read.
     */
    private void nudgeReconnect() {
        if (closed || synced) {
            nudging.set(false);
            // Unsynced again since the check (its unsynced() saw this chain running): carry on.
            if (closed || synced || !nudging.compareAndSet(false, true)) {
                return;
            }
        }
        EtcdClients.reconnectNow(client);
        java.util.concurrent.CompletableFuture.runAsync(this::nudgeReconnect,
                java.util.concurrent.CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS));
    }

    private void scheduleCheck(long forGeneration, Duration after, java.util.function.LongConsumer check) {
        checkDue = System.nanoTime() + after.toNanos();
        thread.schedule(() -> {
            if (forGeneration == generation && !closed && synced) {
                check.accept(forGeneration);
            }
        }, after.toMillis(), TimeUnit.MILLISECONDS);
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
