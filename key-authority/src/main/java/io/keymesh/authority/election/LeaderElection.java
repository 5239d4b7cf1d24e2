package io.keymesh.authority.election;

import io.keymesh.runtime.DaemonThreads;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on etcd's election API, in the manner of Curator's {@code LeaderLatch}: a
 * {@link #start()}/{@link #close()} lifecycle and a listener told when leadership is taken and
 * when it is lost.
 *
 * <p>One thread runs the loop: wait until this replica is eligible (its copy of the mesh is in
 * sync), grant a lease (TTL), keep it alive, campaign, lead until the lease may be lost
 * (keep-alive stream ends or fails, or no acknowledgement for two thirds of the TTL, so the
 * replica stops before the server can expire the lease), it stays ineligible for a whole TTL, a
 * write finds the fence broken ({@link #fencedOut}), or {@link #close()}; then start over.
 * The listener hears about a loss <em>before</em> anything else happens, so writing stops at
 * once. {@link #close()} resigns, so a standby takes over without waiting for the lease to expire.
 */
public final class LeaderElection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderElection.class);
    private static final Duration RPC_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration RETRY_DELAY = Duration.ofMillis(500);
    private static final long POLL_MILLIS = 100;

    /** Told about leadership changes, on the election thread; must not block for long. */
    public interface Listener {
        void takeLeadership(Leadership leadership);

        void leadershipLost(String why);
    }

    private final Client client;
    private final ByteSequence electionName;
    private final ByteSequence proposal;
    private final String candidate;
    private final Duration ttl;
    private final Listener listener;
    private final BooleanSupplier eligible;
    private final Thread thread;
    private final CompletableFuture<Void> closing = new CompletableFuture<>();
    private volatile Leadership current;
    private volatile CompletableFuture<Void> fencedOut = new CompletableFuture<>();
    /** When etcd last granted or renewed this replica's lease: only a raft leader with a quorum can. */
    private final AtomicLong leaseAnsweredAt = new AtomicLong(System.nanoTime());

    /** @param eligible whether this replica may lead now (for the authority: its mesh copy is in sync) */
    public LeaderElection(Client client, String electionName, String candidate, Duration ttl, BooleanSupplier eligible,
                          Listener listener) {
        if (ttl.toSeconds() < 1) {
            throw new IllegalArgumentException("lease TTL must be at least 1 s");
        }
        this.client = client;
        this.electionName = ByteSequence.from(electionName, StandardCharsets.UTF_8);
        this.candidate = candidate;
        this.proposal = ByteSequence.from(candidate, StandardCharsets.UTF_8);
        this.ttl = ttl;
        this.listener = listener;
        this.eligible = eligible;
        this.thread = DaemonThreads.named("keymesh-election").newThread(this::run);
    }

    public void start() {
        thread.start();
    }

    public Optional<Leadership> leadership() {
        return Optional.ofNullable(current);
    }

    /**
     * How long since etcd last granted or renewed this replica's lease, leader or standby. A
     * member that lost quorum still answers reads and watches; only this shows it.
     */
    public Duration sinceLeaseAnswered() {
        return Duration.ofNanos(System.nanoTime() - leaseAnsweredAt.get());
    }

    /** A write found the fence broken: give up this term now and campaign again. */
    public void fencedOut(Leadership leadership) {
        if (leadership.equals(current)) {
            fencedOut.complete(null);
        }
    }

    private void run() {
        while (!closing.isDone()) {
            try {
                if (!awaitEligible()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long lease = 0;
            CloseableClient keepAlive = null;
            try {
                lease = client.getLeaseClient().grant(ttl.toSeconds()).get(RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getID();
                leaseAnsweredAt.set(System.nanoTime());
                LeaseWatch watch = new LeaseWatch(leaseAnsweredAt);
                keepAlive = client.getLeaseClient().keepAlive(lease, watch);
                var campaign = client.getElectionClient().campaign(electionName, lease, proposal);
                String why = waitWhileHealthy(campaign, watch);
                if (why == null && campaign.isDone() && !campaign.isCompletedExceptionally()) {
                    LeaderKey key = campaign.get().getLeader();
                    lead(new Leadership(key.getKey(), key.getRevision(), lease), key, watch);
                } else if (why != null && !closing.isDone()) {
                    LOG.warn("campaign of {} interrupted: {}", candidate, why);
                } else if (campaign.isCompletedExceptionally()) {
                    LOG.warn("campaign of {} failed: {}", candidate, rootMessage(campaign));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (Exception e) {
                LOG.warn("election round of {} failed: {}", candidate, rootMessage(e));
            } finally {
                if (keepAlive != null) {
                    keepAlive.close();
                }
                if (lease != 0) {
                    // Deletes our campaign key at once instead of after the TTL.
                    client.getLeaseClient().revoke(lease).orTimeout(RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                            .exceptionally(e -> null);
                }
            }
            try {
                // Between rounds, so an unreachable etcd is not hammered; ends early on close().
                closing.get(RETRY_DELAY.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // next round
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Waits until eligible; false when closing first. */
    private boolean awaitEligible() throws InterruptedException {
        while (!eligible.getAsBoolean()) {
            if (closing.isDone()) {
                return false;
            }
            Thread.sleep(POLL_MILLIS);
        }
        return !closing.isDone();
    }

    private void lead(Leadership leadership, LeaderKey key, LeaseWatch watch) throws InterruptedException {
        fencedOut = new CompletableFuture<>();
        current = leadership;
        LOG.info("{} is now the leader (leader key create revision {})", candidate, leadership.createRevision());
        listener.takeLeadership(leadership);
        String why = waitWhileHealthy(fencedOut, watch);
        if (why == null) {
            why = "a write found the fence broken";
        }
        current = null;
        listener.leadershipLost(why);
        if (closing.isDone()) {
            LOG.info("{} stopped leading: {}", candidate, why);
        } else {
            LOG.warn("{} stopped leading: {}", candidate, why);
        }
        if (closing.isDone()) {
            try {
                client.getElectionClient().resign(key).get(RPC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                LOG.info("{} resigned", candidate);
            } catch (Exception e) {
                LOG.warn("{} could not resign ({}); the lease expires within {} s", candidate, rootMessage(e), ttl.toSeconds());
            }
        }
    }

    /**
     * Waits until {@code done} completes; returns null then, or why the wait ended early (lease
     * lost, keep-alive silent for a whole TTL, closing).
     */
    private String waitWhileHealthy(CompletableFuture<?> done, LeaseWatch watch) throws InterruptedException {
        long silenceLimit = ttl.toNanos() * 2 / 3;
        long ineligibleSince = 0;
        while (true) {
            if (closing.isDone()) {
                return "shutting down";
            }
            if (watch.lost.isDone()) {
                return "lease lost: " + watch.lost.getNow("");
            }
            if (System.nanoTime() - watch.lastAck.get() > silenceLimit) {
                return "no keep-alive acknowledgement for " + silenceLimit / 1_000_000 + " ms";
            }
            if (eligible.getAsBoolean()) {
                ineligibleSince = 0;
            } else if (ineligibleSince == 0) {
                ineligibleSince = System.nanoTime();
            } else if (System.nanoTime() - ineligibleSince > ttl.toNanos()) {
                return "out of sync with etcd for " + ttl.toSeconds() + " s";
            }
            if (done.isDone()) {
                return null;
            }
            Thread.sleep(POLL_MILLIS);
        }
    }

    /** Keep-alive stream observer: remembers the last acknowledgement and whether the lease is gone. */
    private static final class LeaseWatch implements StreamObserver<LeaseKeepAliveResponse> {
        final AtomicLong lastAck = new AtomicLong(System.nanoTime());
        final CompletableFuture<String> lost = new CompletableFuture<>();
        private final AtomicLong anyAck;

        LeaseWatch(AtomicLong anyAck) {
            this.anyAck = anyAck;
        }

        @Override
        public void onNext(LeaseKeepAliveResponse response) {
            if (response.getTTL() <= 0) {
                lost.complete("lease expired");
            } else {
                lastAck.set(System.nanoTime());
                anyAck.set(lastAck.get());
            }
        }

        @Override
        public void onError(Throwable t) {
            lost.complete("keep-alive failed: " + rootMessage(t));
        }

        @Override
        public void onCompleted() {
            lost.complete("keep-alive stream ended");
        }
    }

    static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static String rootMessage(CompletableFuture<?> failed) {
        try {
            failed.join();
            return "no error";
        } catch (RuntimeException e) {
            return rootMessage(e);
        }
    }

    /** Resigns if leading, revokes the lease, and stops the election thread. */
    @Override
    public void close() {
        closing.complete(null);
        try {
            thread.join(RPC_TIMEOUT.toMillis() * 2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
