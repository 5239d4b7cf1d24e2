package io.keymesh.daemon;

import io.etcd.jetcd.Client;
import io.keymesh.daemon.host.HostMode;
import io.keymesh.daemon.http.DaemonHttp;
import io.keymesh.daemon.join.Enrollment;
import io.keymesh.daemon.keys.NodeKeys;
import io.keymesh.daemon.link.LinkManager;
import io.keymesh.daemon.mesh.MeshFeed;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.mesh.VerifiedMesh;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.reconcile.Identity;
import io.keymesh.daemon.rotate.KeyRotation;
import io.keymesh.daemon.state.StateFile;
import io.keymesh.daemon.status.StatusReporter;
import io.keymesh.daemon.wireguard.WireGuardDevice;
import io.keymesh.runtime.Cli;
import io.keymesh.runtime.DaemonThreads;
import io.keymesh.runtime.Errors;
import io.keymesh.runtime.etcd.EtcdOutage;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One host's daemon, wired: persisted state brings the device up first (offline boot), then the
 * verified feed from etcd drives the device worker; a host that is not a member yet joins with
 * its token; status and HTTP run on Vert.x. {@link #failure()} completes when the daemon cannot
 * go on (a rejected join), with the one line to tell the operator.
 */
public final class NodeDaemon implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeDaemon.class);
    private static final long STATUS_PERIOD_MS = 5_000;
    /** How long a daemon that cannot read etcd at all (a restart with etcd down, an outage) stays ready. */
    static final java.time.Duration ETCD_GRACE = java.time.Duration.ofSeconds(30);
    /** A rejected join: restarting cannot help (the systemd unit sets RestartPreventExitStatus=3). */
    public static final int JOIN_REJECTED_EXIT = 3;

    private final DaemonSettings settings;
    private final Client client;
    private final NodeKeys keys;
    private final KeyRotation rotation;
    private final Metrics metrics;
    private final StateFile stateFile;
    private final MeshFeed feed;
    private final DeviceWorker worker;
    private final Vertx vertx;
    private final ExecutorService joiner = Executors.newSingleThreadExecutor(DaemonThreads.named("keymesh-join"));
    /** Saves the state file off the device worker, coalesced: a burst of applies costs one or two writes. */
    private final ExecutorService stateWriter = Executors.newSingleThreadExecutor(DaemonThreads.named("keymesh-state"));
    private final AtomicReference<Set<WireGuardPublicKey>> unsaved = new AtomicReference<>();
    private final AtomicBoolean joinStarted = new AtomicBoolean();
    private final CompletableFuture<Cli.Failure> failure = new CompletableFuture<>();
    private final String version;
    private StateFile.Saved lastSaved;
    private HttpServer http;
    private volatile StatusReporter status;

    public NodeDaemon(DaemonSettings settings, Client client, NodeKeys keys, WireGuardDevice device, LinkManager links, Metrics metrics,
                      String version) {
        this.settings = settings;
        this.client = client;
        this.keys = keys;
        this.metrics = metrics;
        this.version = version;
        this.stateFile = new StateFile(settings.stateDirectory());
        StateFile.Saved saved = stateFile.load();
        this.lastSaved = saved;
        VerifiedMesh mesh = new VerifiedMesh(settings.layout(), TrustedKeys.of(settings.trustedKeys()), settings.mesh(), saved.highestSeen());
        // Host mode needs the real interface; with one, it runs on or off (off cleans up after an earlier on).
        HostMode hostMode = links == null ? null : new HostMode(settings.hostTraffic(), settings.interfaceName(), settings.endpoints(),
                settings.advertised());
        this.worker = new DeviceWorker(device, links, hostMode, keys.wireGuard(), settings.node(), keys.identity().publicKey(),
                settings.interfaceName(), settings.overrides(), saved.owned(), metrics, this::applied);
        this.rotation = new KeyRotation(client, settings.layout(), settings.mesh(), settings.node(), keys.identity(), keys.wireGuard(),
                settings.advertised(), metrics, Clock.systemUTC());
        this.feed = new MeshFeed(mesh, settings.layout(), metrics, worker::submit, this::nodesSynced);
        metrics.describe("keymesh_daemon_watch_lag_revisions", "gauge",
                "How far the device is behind the node records received from etcd, in revisions (0 when it has them all)");
        metrics.gauge("keymesh_daemon_watch_lag_revisions", () -> {
            MeshSnapshot applied = worker.applied();
            return Math.max(0, feed.receivedRevision() - (applied == null ? 0 : applied.revision()));
        });
        MeshSnapshot restored = feed.restore(saved);
        if (!saved.records().isEmpty() && restored.records().isEmpty()) {
            throw new IllegalStateException("none of the " + saved.records().size() + " node records saved in " + stateFile.path()
                    + " verifies with these settings; check --trust-key, --mesh and --prefix (or move the file aside if the mesh "
                    + "really changed)");
        }
        if (!saved.records().isEmpty()) {
            LOG.info("bringing the mesh up from {}: {} verified record(s) up to revision {}, before etcd answers",
                    stateFile.path(), restored.records().size(), restored.revision());
            worker.submit(restored);
        }
        // One event loop is plenty for a timer and a local HTTP endpoint; fewer threads, less memory.
        this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2).setInternalBlockingPoolSize(2));
    }

    /** Starts reading etcd, the status timer and the HTTP server; returns once HTTP listens. */
    public void start() throws Exception {
        feed.start(client, settings.watch(), new EtcdOutage(settings.etcd().endpoints(), "the WireGuard peers stay as they are"));
        StatusReporter status = new StatusReporter(client, settings.layout(), settings.node(), version, worker, Clock.systemUTC());
        this.status = status;
        vertx.setPeriodic(STATUS_PERIOD_MS, id -> status.tick());
        if (settings.http() != null) {
            http = new DaemonHttp(vertx, worker, metrics, this::notReadyBecause).listen(settings.http())
                    .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Ready: the device matches the newest verified records known, and this daemon follows etcd
     * (or has been unable to read it for less than {@link #ETCD_GRACE}: after a restart with etcd
     * down, the device is up from the state file). Not ready while a watch is silent or this
     * process was frozen, since a revocation may be waiting, and once etcd has accepted no status
     * report for {@link #ETCD_GRACE} (an etcd member without quorum still serves reads and
     * watches, but holds no new revocation either). The peers stay as they are either
     * way: readiness reports, it never tears anything down.
     */
    public boolean isReady() {
        return notReadyBecause().isEmpty();
    }

    /** Why this daemon is not ready, or empty when it is. */
    public java.util.Optional<String> notReadyBecause() {
        if (!worker.inSync()) {
            return java.util.Optional.of("the device does not match the last known records yet");
        }
        java.util.Optional<String> feedProblem = feed.notFollowing(ETCD_GRACE);
        StatusReporter reporter = status;
        return feedProblem.isPresent() || reporter == null ? feedProblem : reporter.notAcceptedFor(ETCD_GRACE);
    }

    public InetSocketAddress httpAddress() {
        return http == null ? null : new InetSocketAddress(settings.http().getHostString(), http.actualPort());
    }

    public CompletableFuture<Cli.Failure> failure() {
        return failure;
    }

    public DeviceWorker worker() {
        return worker;
    }

    /** Worker thread: have what was applied persisted. */
    private void applied(MeshSnapshot snapshot, Set<WireGuardPublicKey> owned) {
        rotation.observe(snapshot); // after the worker promoted any key the snapshot admits
        if (unsaved.getAndSet(owned) == null) {
            stateWriter.execute(this::save);
        }
        StatusReporter reporter = status;
        if (reporter != null) {
            try {
                vertx.runOnContext(v -> reporter.tick()); // report the applied revision now: rollouts wait on it
            } catch (RuntimeException e) {
                // closing
            }
        }
    }

    /** State thread: writes the state file if it changed since the last write. */
    private void save() {
        StateFile.Saved next = feed.saved(unsaved.getAndSet(null));
        if (!sameState(next, lastSaved)) {
            try {
                stateFile.save(next);
                lastSaved = next;
            } catch (RuntimeException e) {
                LOG.warn("cannot save {} ({}); the mesh still works, but a reboot without etcd would start with fewer peers",
                        stateFile.path(), Errors.rootMessage(e));
            }
        }
    }

    private static boolean sameState(StateFile.Saved a, StateFile.Saved b) {
        return a.revision() == b.revision() && a.owned().equals(b.owned()) && a.records().keySet().equals(b.records().keySet())
                && a.highestSeen().equals(b.highestSeen()) && a.records().entrySet().stream()
                        .allMatch(e -> java.util.Arrays.equals(e.getValue(), b.records().get(e.getKey())))
                && java.util.Arrays.equals(a.config(), b.config());
    }

    /** Feed thread, after each full read of nodes/: is this host a member, or must it join? */
    private void nodesSynced() {
        NodeRecord own = feed.current().records().get(settings.node());
        // next before current: the worker may promote in between, and then the promoted key is current
        var next = keys.wireGuard().next();
        Identity self = new Identity(settings.node(), keys.identity().publicKey(), keys.wireGuard().current().publicKey());
        boolean nextAdmitted = next.map(key -> self.withKey(key.publicKey()).isAdmittedBy(own)).orElse(false);
        if (self.isAdmittedBy(own) || nextAdmitted) {
            return; // a member (about to promote its next key, perhaps)
        }
        if (self.isRevokedBy(own)) {
            LOG.error("{} was revoked at epoch {}; it has no peers. Re-imaging it as a new identity needs a new join token.",
                    settings.node(), own.epoch());
            return;
        }
        if (settings.joinTokenFile() == null) {
            LOG.error("{} is not a member of mesh {} yet; start the daemon with --join-token-file (create a token with "
                    + "'keymesh token create')", settings.node(), settings.mesh());
            return;
        }
        if (joinStarted.compareAndSet(false, true)) {
            joiner.execute(this::join);
        }
    }

    private void join() {
        try {
            JoinTokenSecret token = JoinTokenSecret.parse(KeyFiles.readSecret(settings.joinTokenFile()));
            Enrollment.join(client, settings.layout(), settings.mesh(), settings.node(), keys, settings.advertised(), token,
                    Clock.systemUTC());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Enrollment.RejectedException e) {
            failure.complete(new Cli.Failure(e.getMessage(), JOIN_REJECTED_EXIT));
        } catch (Exception e) {
            failure.complete(new Cli.Failure("cannot join: " + Errors.rootMessage(e), 1)); // a bad token file, say: fixable, restartable
        }
    }

    /** Stops everything that uses the etcd client, quietly; the caller closes the client after. */
    @Override
    public void close() {
        StatusReporter reporter = status;
        if (reporter != null) {
            reporter.close();
        }
        try {
            // First the timers and HTTP, which hand work to the worker; then the worker itself.
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.debug("closing Vert.x: {}", e.getMessage());
        }
        joiner.shutdownNow();
        rotation.close();
        feed.close();
        worker.close();
        stateWriter.shutdown(); // lets a queued save finish
        try {
            stateWriter.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
