package io.keymesh.authority;

import io.keymesh.runtime.DaemonThreads;

import io.etcd.jetcd.Client;
import io.keymesh.authority.LeaderTransactions.Plan;
import io.keymesh.authority.LeaderTransactions.PlanBuilder;
import io.keymesh.authority.admission.AddressPool;
import io.keymesh.authority.admission.Admission;
import io.keymesh.authority.admission.BatchView;
import io.keymesh.authority.admission.JoinDecision;
import io.keymesh.authority.admission.Rejection;
import io.keymesh.authority.admission.RevokeDecision;
import io.keymesh.authority.admission.RotationMark;
import io.keymesh.authority.election.LeaderElection;
import io.keymesh.authority.election.Leadership;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.authority.state.MeshCache;
import io.keymesh.runtime.etcd.Change;
import io.keymesh.authority.state.MeshCache.PendingEnrollment;
import io.keymesh.authority.state.MeshView;
import io.keymesh.authority.state.Stored;
import io.keymesh.authority.store.FencedWriter;
import io.keymesh.authority.store.FencedWriter.Outcome;
import io.keymesh.runtime.etcd.EtcdOutage;
import io.keymesh.runtime.etcd.PrefixWatch;
import io.keymesh.runtime.etcd.WatchMetrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One key authority replica. Every replica keeps a warm copy of the mesh (snapshot-then-watch of
 * the prefix) and campaigns; the leader answers every enrollment and operator request that has
 * no answer yet, on one worker thread, in fenced transactions (pending joins in batches, so a
 * burst costs one round trip per batch rather than per join). Work left
 * unanswered by a failed leader is simply still unanswered for the next one, and answering is
 * idempotent: an answered request is recognised by its digest and never processed twice.
 */
public final class KeyAuthority implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyAuthority.class);
    private static final int ATTEMPTS = 5;
    private static final Duration OWN_WRITE_VISIBLE = Duration.ofSeconds(5);
    private static final Duration CONFLICT_WAIT = Duration.ofSeconds(1);
    private static final Duration RETRY_AFTER_ERROR = Duration.ofSeconds(1);
    /** An automatic rotation that has not completed after this long no longer holds the next one back. */
    private static final Duration STUCK_ROTATION = Duration.ofMinutes(10);
    /** Lease renewals come every third of the TTL; missing them this long means no working etcd. */
    private static final Duration QUORUM_GRACE = Duration.ofSeconds(10);
    /** How often the leader applies retention; sooner while a backlog is being worked off. */
    private static final Duration PRUNE_EVERY = Duration.ofMinutes(1);
    private static final Duration PRUNE_CONTINUE = Duration.ofSeconds(1);
    private static final int MAX_PRUNE_PLANS = 10;
    private static final String[] PRUNED_KINDS = {"audit", "request", "enrollment"};
    /** etcd refuses transactions of more than 128 operations (--max-txn-ops); stay well below. */
    private static final int MAX_BATCH_OPS = 100;
    /** The most keys one answered join adds: record, two claims, token, result, audit (a reprovision: tombstone and request for the claims). */
    private static final int MAX_OPS_PER_JOIN = 6;
    /** A rotation: record, result, audit and the rotate requests it completes. */
    private static final int MAX_OPS_PER_ROTATION = 3 + LeaderTransactions.MAX_COMPLETED_PER_COMMIT;

    private final AuthoritySettings settings;
    private final Clock clock;
    private final Metrics metrics;
    private final MeshCache cache;
    private final Admission admission;
    private final LeaderTransactions transactions;
    private final FencedWriter writer;
    private final PrefixWatch watch;
    private final LeaderElection election;
    private final MeshConfig config;
    private final ScheduledExecutorService worker =
            Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("keymesh-authority-worker"));
    private final AtomicBoolean scheduled = new AtomicBoolean();
    /** When the leader next applies retention; the worker thread's alone. */
    private long nextPruneNanos;

    /** How one fenced commit ended, from the pass's point of view. */
    private enum Committed { YES, CONFLICT, STOP_PASS, STOP_PASS_AFTER_COMMIT }
    private volatile Leadership termStarted;

    public KeyAuthority(Client client, AuthoritySettings settings, Ed25519PrivateKey signingKey, Clock clock, Metrics metrics) {
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        List<Ed25519PublicKey> trusted = new ArrayList<>(settings.extraTrustedKeys());
        trusted.add(signingKey.publicKey());
        this.cache = new MeshCache(settings.layout(), TrustedKeys.of(trusted), settings.mesh());
        this.admission = new Admission(settings.mesh(), new AddressPool(settings.overlayCidrs()));
        this.transactions = new LeaderTransactions(settings.layout(), signingKey);
        this.writer = new FencedWriter(client);
        this.config = new MeshConfig(settings.mesh(), settings.overlayCidrs(), settings.listenPort(), settings.keepaliveSeconds(),
                null, clock.instant());
        WatchMetrics watchMetrics = new WatchMetrics(metrics, "keymesh_authority", "the mesh");
        this.watch = new PrefixWatch(client, settings.layout().root(), settings.watch(),
                new EtcdOutage(settings.etcd().endpoints(), "this replica admits nothing meanwhile"), new PrefixWatch.Listener() {
            @Override
            public void snapshot(List<Change> all, long revision) {
                cache.reset(all, revision);
                schedule();
            }

            @Override
            public void changes(List<Change> changes, long upTo) {
                cache.apply(changes, upTo);
                // Daemons' status reports come by the thousand during a rollout and decide nothing: no pass for them.
                if (changes.stream().anyMatch(c -> cache.concernsDecisions(c.key()))) {
                    schedule();
                }
            }

            @Override
            public void synced() {
                schedule(); // the pass queued by snapshot() may have run before the watch was up
            }

            @Override
            public void resyncing(String cause) {
                watchMetrics.resyncing(cause);
            }
        });
        watchMetrics.silence(() -> watch);
        // Only a replica whose copy of the mesh is in sync may lead: one that cannot read the mesh
        // would hold leadership and answer nothing.
        this.election = new LeaderElection(client, settings.layout().election(), settings.candidate(), settings.leaseTtl(),
                watch::isSynced, new LeaderElection.Listener() {
                    @Override
                    public void takeLeadership(Leadership leadership) {
                        schedule();
                    }

                    @Override
                    public void leadershipLost(String why) {
                        termStarted = null;
                    }
                });
        describeMetrics();
        if (settings.maxKeyAge() != null) {
            // Keys age without any change in etcd: look now and then, a hundredth of the age, 5 s to 60 s.
            long period = Math.max(5_000, Math.min(60_000, settings.maxKeyAge().toMillis() / 100));
            worker.scheduleWithFixedDelay(this::schedule, period, period, TimeUnit.MILLISECONDS);
        }
        // Values expire without any change in etcd: look every minute.
        worker.scheduleWithFixedDelay(this::schedule, PRUNE_EVERY.toMillis(), PRUNE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        metrics.describe("keymesh_authority_rotation_seconds", "histogram",
                "From a node's rotation mark to the commit of its next key (phase one to phase two)");
    }

    private void describeMetrics() {
        metrics.describe("keymesh_authority_leader", "gauge", "1 while this replica leads, else 0");
        metrics.gauge("keymesh_authority_leader", () -> isLeader() ? 1 : 0);
        metrics.describe("keymesh_authority_synced", "gauge", "1 once the mesh snapshot is loaded and watched");
        metrics.gauge("keymesh_authority_synced", () -> watch.isSynced() ? 1 : 0);
        metrics.describe("keymesh_authority_nodes", "gauge", "node records in the mesh (any state)");
        metrics.gauge("keymesh_authority_nodes", cache::nodeCount);
        metrics.describe("keymesh_authority_unverified_values", "gauge",
                "node records and tombstones that do not verify against the trusted keys (should be 0)");
        metrics.gauge("keymesh_authority_unverified_values", cache::unverifiedCount);
        metrics.describe("keymesh_authority_requests_total", "counter", "requests answered, by kind, outcome and reason");
        metrics.describe("keymesh_authority_txn_seconds", "histogram", "latency of the leader's fenced transactions");
        metrics.describe("keymesh_authority_txn_conflicts_total", "counter", "fenced transactions retried after a concurrent change");
        metrics.describe("keymesh_authority_fenced_total", "counter", "writes refused because this replica no longer leads");
        metrics.describe("keymesh_authority_pruned_keys_total", "counter",
                "keys deleted by retention, by kind (audit, request, enrollment: a request and its answer are two keys)");
        for (String kind : PRUNED_KINDS) {
            metrics.add("keymesh_authority_pruned_keys_total", 0, "kind", kind);
        }
    }

    public void start() {
        watch.start();
        election.start();
    }

    public boolean isLeader() {
        return election.leadership().isPresent();
    }

    /** Ready: see {@link #notReadyBecause}. */
    public boolean isReady() {
        return notReadyBecause().isEmpty();
    }

    /**
     * Why this replica cannot do its job now, or empty: its mesh state is not loaded, its watch
     * does not answer (see {@link PrefixWatch#isFollowing}), or etcd has renewed its election lease
     * for none of the last {@link #QUORUM_GRACE} (etcd unreachable, or the member it reaches has
     * lost quorum: it still serves the watch, but this replica could neither lead nor take over).
     */
    public Optional<String> notReadyBecause() {
        if (!watch.isSynced()) {
            return Optional.of("cannot read the mesh from etcd (for " + watch.unsyncedFor().toSeconds() + " s)");
        }
        if (!watch.isFollowing()) {
            return Optional.of("its watch on etcd is not answering (silent for " + watch.sinceHeard().toSeconds() + " s); reading again");
        }
        Duration silent = election.sinceLeaseAnswered();
        if (silent.compareTo(QUORUM_GRACE) > 0) {
            return Optional.of("etcd has not renewed this replica's election lease for " + silent.toSeconds()
                    + " s (no quorum, or unreachable)");
        }
        return Optional.empty();
    }

    public MeshCache cache() {
        return cache;
    }

    /** Coalesces: any number of calls while a pass is queued lead to one pass. */
    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            worker.execute(() -> {
                scheduled.set(false);
                processAll();
            });
        }
    }

    private void processAll() {
        Leadership leadership = election.leadership().orElse(null);
        if (leadership == null || !watch.isSynced()) {
            return;
        }
        try {
            // Everything earlier leaders wrote has a lower revision than our leader key: decide
            // nothing before the cache has caught up to it, or a lagging cache could admit a
            // duplicate key that only the cache, not the transaction, guards against.
            if (!cache.awaitRevision(leadership.createRevision(), OWN_WRITE_VISIBLE)) {
                LOG.warn("mesh copy has not caught up to revision {} yet; retrying", leadership.createRevision());
                worker.schedule(this::schedule, RETRY_AFTER_ERROR.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            if (!leadership.equals(termStarted)) {
                Committed started = commit(leadership, transactions.forTermStart(config, clock.instant()), "term start");
                if (started != Committed.YES) {
                    if (started == Committed.STOP_PASS_AFTER_COMMIT) {
                        termStarted = leadership;
                    }
                    return;
                }
                termStarted = leadership;
                nextPruneNanos = System.nanoTime();
            }
            List<PendingEnrollment> pending = cache.unansweredEnrollments();
            for (int next = 0; next < pending.size(); ) {
                next = answerBatch(leadership, pending, next);
                if (next < 0) {
                    return;
                }
            }
            for (Stored<OperatorRequest> request : cache.pendingRequests()) {
                if (!answerRequest(leadership, request)) {
                    return;
                }
            }
            if (settings.maxKeyAge() != null) {
                rotateOverdueKey(leadership);
            }
            if (System.nanoTime() - nextPruneNanos >= 0) {
                pruneExpired(leadership);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warn("leader pass failed ({}); retrying in {} ms", e.getMessage(), RETRY_AFTER_ERROR.toMillis());
            worker.schedule(this::schedule, RETRY_AFTER_ERROR.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Decides the enrollments from {@code from} on, as many as fit one transaction, each against
     * the mesh with the batch's earlier decisions laid on top, and commits them together. After a
     * conflict each is answered alone against fresh state. Returns where the next batch starts,
     * or -1 when this pass must stop.
     */
    private int answerBatch(Leadership leadership, List<PendingEnrollment> pending, int from) throws InterruptedException {
        Instant now = clock.instant();
        BatchView view = new BatchView(cache);
        PlanBuilder plan = new PlanBuilder();
        List<JoinDecision> decisions = new ArrayList<>();
        int end = from;
        while (end < pending.size()) {
            JoinDecision decision = decide(pending.get(end), view, now);
            int ops = decision instanceof JoinDecision.Rotate ? MAX_OPS_PER_ROTATION : MAX_OPS_PER_JOIN;
            if (end > from && plan.size() + ops > MAX_BATCH_OPS) {
                break; // decided again, against the batch's outcome, at the start of the next batch
            }
            view.add(decision);
            transactions.addJoin(plan, pending.get(end), decision, isNewRejection(pending.get(end), decision), now);
            decisions.add(decision);
            end++;
        }
        Committed committed = commit(leadership, plan.build(), decisions.size() + " enrollment(s)");
        if (committed == Committed.YES || committed == Committed.STOP_PASS_AFTER_COMMIT) {
            for (int i = 0; i < decisions.size(); i++) {
                recordOutcome(pending.get(from + i), decisions.get(i));
            }
            return committed == Committed.YES ? end : -1;
        }
        if (committed == Committed.STOP_PASS) {
            return -1;
        }
        for (int i = from; i < end; i++) {
            if (!answerEnrollment(leadership, pending.get(i))) {
                return -1;
            }
        }
        return end;
    }

    /** Whether a rejection differs from the node's last answer (repeats are answered, not audited again). */
    private boolean isNewRejection(PendingEnrollment pending, JoinDecision decision) {
        if (!(decision instanceof JoinDecision.Reject reject)) {
            return true;
        }
        return cache.enrollResult(pending.node())
                .filter(Stored::isValid)
                .map(last -> !reject.reason().code().equals(last.value().reason()))
                .orElse(true);
    }

    /**
     * Admission refuses bad input with a reason; should it ever throw instead (a bug), the request
     * is answered as malformed rather than retried forever, which would block every request after it.
     */
    private JoinDecision decide(PendingEnrollment pending, MeshView view, Instant now) {
        try {
            return admission.decide(pending, view, now);
        } catch (RuntimeException e) {
            LOG.error("enrollment of {} could not be decided ({}); answering it as malformed", pending.node(), e.toString());
            return new JoinDecision.Reject(Rejection.MALFORMED, "could not be processed: " + e.getClass().getSimpleName());
        }
    }

    /** Decides and commits one enrollment, re-deciding after a conflict; false when this pass must stop. */
    private boolean answerEnrollment(Leadership leadership, PendingEnrollment pending) throws InterruptedException {
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Instant now = clock.instant();
            JoinDecision decision = decide(pending, cache, now);
            PlanBuilder plan = new PlanBuilder();
            transactions.addJoin(plan, pending, decision, isNewRejection(pending, decision), now);
            Committed committed = commit(leadership, plan.build(), "enrollment of " + pending.node());
            if (committed == Committed.YES || committed == Committed.STOP_PASS_AFTER_COMMIT) {
                recordOutcome(pending, decision);
                return committed == Committed.YES;
            }
            if (committed == Committed.STOP_PASS) {
                return false;
            }
            if (cache.unansweredEnrollments().stream().noneMatch(p -> p.digest().equals(pending.digest()))) {
                return true; // the request changed or was answered meanwhile
            }
        }
        LOG.warn("enrollment of {} still conflicts after {} attempts; will retry on the next change", pending.node(), ATTEMPTS);
        return true;
    }

    private boolean answerRequest(Leadership leadership, Stored<OperatorRequest> request) throws InterruptedException {
        OperatorRequest r = request.value();
        String kind = r.action().name().toLowerCase(java.util.Locale.ROOT);
        Instant now = clock.instant();
        Plan plan;
        String outcome;
        String reason = "";
        switch (r.action()) {
            case REVOKE -> {
                RevokeDecision decision = RevokeDecision.decide(r.node(), cache, now);
                plan = transactions.forRevoke(request, decision, now);
                outcome = decision instanceof RevokeDecision.Reject ? "rejected" : "done";
                reason = decision instanceof RevokeDecision.Reject reject ? reject.reason().code() : "";
            }
            case ROTATE -> {
                RotationMark decision = RotationMark.decide(r.node(), cache, now);
                if (decision instanceof RotationMark.Underway) {
                    return true; // done by the rotation's commit
                }
                if (decision instanceof RotationMark.Reject reject) {
                    plan = transactions.forRejectedRequest(request, reject.reason(), reject.detail(), now);
                    outcome = "rejected";
                    reason = reject.reason().code();
                } else {
                    plan = transactions.forRotationMark(request, (RotationMark.Mark) decision);
                    outcome = "marked";
                }
            }
            case REPROVISION -> {
                Optional<RotationMark.Reject> problem = checkReprovision(r);
                if (problem.isEmpty()) {
                    return true; // authorized: carried out when the new identity joins
                }
                plan = transactions.forRejectedRequest(request, problem.get().reason(), problem.get().detail(), now);
                outcome = "rejected";
                reason = problem.get().reason().code();
            }
            case ROLLOUT -> {
                return true; // the CLI's own progress record: nothing for the authority to do
            }
            default -> {
                // answered at once, so nobody waits on an action this version does not carry out
                plan = transactions.forRejectedRequest(request, Rejection.UNSUPPORTED,
                        kind + " is not supported by this authority version", now);
                outcome = "rejected";
                reason = "unsupported";
            }
        }
        Committed committed = commit(leadership, plan, kind + " request " + r.id());
        if (committed == Committed.YES || committed == Committed.STOP_PASS_AFTER_COMMIT) {
            metrics.inc("keymesh_authority_requests_total", "kind", kind, "outcome", outcome, "reason", reason);
            LOG.info("{} request {} for {}: {}{}", kind, r.id(), r.node(), outcome, reason.isEmpty() ? "" : " (" + reason + ")");
        }
        // After a conflict the request is decided again on the next pass, which the change schedules.
        return committed == Committed.YES || committed == Committed.CONFLICT;
    }

    /** A reprovision waits for its new identity to join; refused at once if it never could. */
    private Optional<RotationMark.Reject> checkReprovision(OperatorRequest r) {
        Optional<Stored<NodeRecord>> stored = cache.node(r.node());
        if (stored.isEmpty() || !stored.get().isValid() || !stored.get().value().isActive()) {
            return Optional.of(new RotationMark.Reject(Rejection.UNKNOWN_NODE, "no active node " + r.node()
                    + "; a new host joins with a join token, no reprovision needed"));
        }
        if (r.createdAt().plus(Admission.REPROVISION_VALID).isBefore(clock.instant())) {
            return Optional.of(new RotationMark.Reject(Rejection.EXPIRED_REQUEST, "the authorization expired after "
                    + Admission.REPROVISION_VALID.toHours() + " h without the identity joining; run 'keymesh reprovision' again"));
        }
        if (cache.isTombstoned(r.identityKey())) {
            return Optional.of(new RotationMark.Reject(Rejection.TOMBSTONED_IDENTITY, "identity " + r.identityKey().keyId()
                    + " was revoked and can never enroll again"));
        }
        Optional<String> holder = cache.nodeWithIdentity(r.identityKey());
        if (holder.isPresent()) {
            return Optional.of(new RotationMark.Reject(Rejection.DUPLICATE_KEY, "identity " + r.identityKey().keyId()
                    + " already holds node " + holder.get()));
        }
        return Optional.empty();
    }

    /** Marks the node with the oldest key past the maximum age for rotation (one at a time). */
    private void rotateOverdueKey(Leadership leadership) throws InterruptedException {
        Optional<RotationMark.Mark> due = RotationMark.overdue(cache.nodes(), settings.maxKeyAge(), STUCK_ROTATION, clock.instant());
        if (due.isPresent()) {
            NodeRecord marked = due.get().marked();
            Committed committed = commit(leadership, transactions.forAutomaticRotation(due.get()), "automatic rotation of " + marked.node());
            if (committed == Committed.YES || committed == Committed.STOP_PASS_AFTER_COMMIT) {
                metrics.inc("keymesh_authority_requests_total", "kind", "rotate", "outcome", "marked", "reason", "max-key-age");
                LOG.info("the WireGuard key of {} was admitted at {}, longer ago than the maximum key age {}: rotating it",
                        marked.node(), marked.keyIssuedAt(), settings.maxKeyAge());
            }
        }
    }

    /**
     * Deletes what the retention policy lets go, in fenced transactions of at most
     * {@value #MAX_BATCH_OPS} keys, {@value #MAX_PRUNE_PLANS} per pass so a backlog never holds the
     * answers to requests back; the rest follows a second later. Each transaction is all or
     * nothing and each key is deleted only as read, so a replica killed mid-way leaves a
     * consistent store and the next leader simply picks up what is left.
     */
    private void pruneExpired(Leadership leadership) throws InterruptedException {
        var expired = settings.retention().expired(cache.prunable(), clock.instant());
        List<List<io.keymesh.authority.retention.Finished>> byKind = List.of(expired.audit(), expired.requests(), expired.enrollments());
        int[] pruned = new int[PRUNED_KINDS.length];
        int commits = 0;
        boolean more = false;
        for (int kind = 0; kind < PRUNED_KINDS.length && !more; kind++) {
            for (Plan plan : LeaderTransactions.forPruning(byKind.get(kind), MAX_BATCH_OPS)) {
                if (commits == MAX_PRUNE_PLANS) {
                    more = true;
                    break;
                }
                Committed committed = commit(leadership, plan, "pruning of " + PRUNED_KINDS[kind] + " keys");
                if (committed == Committed.YES || committed == Committed.STOP_PASS_AFTER_COMMIT) {
                    commits++;
                    pruned[kind] += plan.ops().size();
                    metrics.add("keymesh_authority_pruned_keys_total", plan.ops().size(), "kind", PRUNED_KINDS[kind]);
                }
                if (committed != Committed.YES) {
                    more = true; // changed meanwhile, or etcd failed: look again soon
                    break;
                }
            }
        }
        Duration next = more ? PRUNE_CONTINUE : PRUNE_EVERY;
        nextPruneNanos = System.nanoTime() + next.toNanos();
        if (more) {
            worker.schedule(this::schedule, next.toMillis(), TimeUnit.MILLISECONDS);
        }
        if (commits > 0) {
            LOG.info("retention: deleted {} audit, {} request and {} enrollment keys{}", pruned[0], pruned[1], pruned[2],
                    more ? "; more to follow" : "");
        }
    }

    private void recordOutcome(PendingEnrollment pending, JoinDecision decision) {
        String kind = pending.isRotation() ? "rotation" : "join";
        if (decision instanceof JoinDecision.Rotate rotate) {
            metrics.inc("keymesh_authority_requests_total", "kind", kind, "outcome", "admitted", "reason", "");
            NodeRecord record = rotate.record();
            metrics.observe("keymesh_authority_rotation_seconds", Duration.between(rotate.markedAt(), clock.instant()).toMillis() / 1e3);
            LOG.info("rotated {} to epoch {} with WireGuard key {}", record.node(), record.epoch(), record.wgPublicKey());
        } else if (decision instanceof JoinDecision.Reject reject) {
            metrics.inc("keymesh_authority_requests_total", "kind", kind, "outcome", "rejected", "reason", reject.reason().code());
            LOG.info("refused {}: {} ({})", kind, reject.reason().code(), reject.detail());
        } else if (decision instanceof JoinDecision.Admit admit) {
            metrics.inc("keymesh_authority_requests_total", "kind", kind, "outcome", "admitted", "reason", "");
            LOG.info("admitted {} at epoch {} with {}", admit.record().node(), admit.record().epoch(), admit.record().addresses());
        } else {
            metrics.inc("keymesh_authority_requests_total", "kind", kind, "outcome", "unchanged", "reason", "");
        }
    }

    /**
     * Commits one plan under the fence. YES once committed and visible in the cache; CONFLICT
     * after waiting for the cache to catch up with the change that got in the way; STOP_PASS when
     * fenced out, or when etcd failed (a retry is scheduled).
     */
    private Committed commit(Leadership leadership, Plan plan, String what) throws InterruptedException {
        long started = System.nanoTime();
        Outcome outcome;
        try {
            outcome = writer.commit(leadership, plan.conditions(), plan.ops());
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("cannot write {} ({}); retrying in {} ms", what, e.getMessage(), RETRY_AFTER_ERROR.toMillis());
            worker.schedule(this::schedule, RETRY_AFTER_ERROR.toMillis(), TimeUnit.MILLISECONDS);
            return Committed.STOP_PASS;
        } finally {
            metrics.observe("keymesh_authority_txn_seconds", (System.nanoTime() - started) / 1e9);
        }
        if (outcome instanceof Outcome.Committed committed) {
            if (!cache.awaitRevision(committed.revision(), OWN_WRITE_VISIBLE)) {
                // Deciding on without our own write would use a stale copy: stop, pick up later.
                LOG.warn("own write at revision {} not seen by the watch within {} s; pausing this pass",
                        committed.revision(), OWN_WRITE_VISIBLE.toSeconds());
                worker.schedule(this::schedule, RETRY_AFTER_ERROR.toMillis(), TimeUnit.MILLISECONDS);
                return Committed.STOP_PASS_AFTER_COMMIT;
            }
            return Committed.YES;
        }
        if (outcome instanceof Outcome.Conflict conflict) {
            metrics.inc("keymesh_authority_txn_conflicts_total");
            cache.awaitRevision(conflict.revision(), CONFLICT_WAIT);
            return Committed.CONFLICT;
        }
        metrics.inc("keymesh_authority_fenced_total");
        LOG.warn("write of {} refused: this replica no longer leads", what);
        election.fencedOut(leadership);
        return Committed.STOP_PASS;
    }

    /** Resigns (a standby takes over at once) and stops. */
    @Override
    public void close() {
        election.close();
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watch.close();
    }
}
