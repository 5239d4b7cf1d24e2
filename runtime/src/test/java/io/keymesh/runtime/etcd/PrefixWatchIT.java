package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.keymesh.testing.etcd.EtcdExtension;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The watch's liveness check against a real etcd: quiet but healthy is left alone; silent is read again. */
class PrefixWatchIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.singleMember();

    private static final PrefixWatch.Liveness QUICK = new PrefixWatch.Liveness(Duration.ofMillis(1000), Duration.ofMillis(400));

    private final Set<String> seen = ConcurrentHashMap.newKeySet();
    /** While set, the listener holds the watch's thread this long on a change: the process "stands still". */
    private volatile Duration stall = Duration.ZERO;
    private final List<Long> snapshots = new CopyOnWriteArrayList<>();
    private final List<String> resyncs = new CopyOnWriteArrayList<>();

    private PrefixWatch watch(Client client, String prefix) {
        return new PrefixWatch(client, prefix, QUICK, new PrefixWatch.Listener() {
            @Override
            public void snapshot(List<Change> all, long revision) {
                all.forEach(c -> seen.add(c.key()));
                snapshots.add(revision);
            }

            @Override
            public void changes(List<Change> changes, long upTo) {
                changes.forEach(c -> seen.add(c.key()));
                Duration hold = stall;
                if (!hold.isZero()) {
                    stall = Duration.ZERO;
                    try {
                        Thread.sleep(hold.toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }

            @Override
            public void synced() {
            }

            @Override
            public void resyncing(String cause) {
                resyncs.add(cause);
            }
        });
    }

    @Test
    void aQuietHealthyWatchAnswersItsProgressRequestsAndIsNeverReadAgain() throws Exception {
        String prefix = etcd.uniquePrefix("quiet");
        try (Client client = etcd.newClient(); PrefixWatch watch = watch(client, prefix)) {
            watch.start();
            await(watch::isSynced, Duration.ofSeconds(10), "synced");
            long end = System.nanoTime() + Duration.ofSeconds(6).toNanos();
            while (System.nanoTime() < end) { // six progress requests, no events at all
                assertTrue(watch.isFollowing(), "a quiet watch that answers its progress requests follows etcd");
                Thread.sleep(100);
            }
            assertEquals(List.of(), resyncs);
            assertTrue(watch.sinceHeard().compareTo(Duration.ofMillis(1500)) < 0, "progress answers count as heard: " + watch.sinceHeard());
            put(prefix + "after", "1");
            await(() -> seen.contains(prefix + "after"), Duration.ofSeconds(5), "the change after the quiet spell");
        }
    }

    @Test
    void aWatchThatAnswersNothingIsNotFollowingAndIsReadAgainOnceEtcdAnswers() throws Exception {
        etcd.requireMemberFaults(1);
        String prefix = etcd.uniquePrefix("silent");
        try (Client client = etcd.newClient(); PrefixWatch watch = watch(client, prefix)) {
            watch.start();
            await(watch::isFollowing, Duration.ofSeconds(10), "following");
            etcd.cluster().pauseMember(0); // the stream stays open and answers nothing
            try {
                await(() -> !watch.isFollowing(), Duration.ofSeconds(3), "not following once a progress request goes unanswered");
                await(() -> resyncs.contains("stalled"), Duration.ofSeconds(3), "a resync for the stalled watch");
            } finally {
                etcd.cluster().resumeMember(0);
            }
            put(prefix + "meanwhile", "1");
            await(() -> seen.contains(prefix + "meanwhile"), Duration.ofSeconds(20), "the change made after etcd answered again");
            await(watch::isFollowing, Duration.ofSeconds(10), "following again");
        }
    }

    /**
     * etcd before 3.4.31 can skip a lagging watcher past a compaction without a word (see
     * PrefixWatch), so a watch whose checks ran late, because its process stood still, is read
     * again from a snapshot at once rather than trusted.
     */
    @Test
    void aWatchWhoseProcessStoodStillIsReadAgainFromASnapshot() throws Exception {
        String prefix = etcd.uniquePrefix("still");
        try (Client client = etcd.newClient(); PrefixWatch watch = watch(client, prefix)) {
            watch.start();
            await(watch::isFollowing, Duration.ofSeconds(10), "following");
            assertEquals(1, snapshots.size());
            stall = Duration.ofMillis(3000); // three checks' worth: the next one runs two seconds late
            put(prefix + "a", "1");
            await(() -> resyncs.contains("stood-still"), Duration.ofSeconds(10), "a resync after standing still");
            await(() -> snapshots.size() == 2 && watch.isFollowing(), Duration.ofSeconds(10), "read again and following");
            assertEquals(List.of("stood-still"), resyncs);
        }
    }

    private static void put(String key, String value) throws Exception {
        etcd.client().getKVClient().put(ByteSequence.from(key, StandardCharsets.UTF_8), ByteSequence.from(value, StandardCharsets.UTF_8))
                .get(10, TimeUnit.SECONDS);
    }

    private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(20);
        }
    }
}
