package io.keymesh.daemon.status;

import io.keymesh.runtime.Errors;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeStatus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code status/<node>} current, under a lease so it disappears when the daemon does.
 * Called on a timer and after each apply: each tick renews the lease, builds the status from the
 * last applied snapshot and the device (read every 30 s), and writes it only if it changed.
 * Asynchronous throughout: nothing here blocks the event loop that runs the timer.
 */
public final class StatusReporter {
    /** WireGuard re-handshakes every 2 minutes on a live session; older than 3 means no session. */
    static final Duration RECENT_HANDSHAKE = Duration.ofMinutes(3);
    public static final Duration LEASE_TTL = Duration.ofSeconds(30);
    private static final Logger LOG = LoggerFactory.getLogger(StatusReporter.class);

    private final Client client;
    private final KeyLayout layout;
    private final String node;
    private final String version;
    private final DeviceWorker worker;
    private final Clock clock;
    /** Reading a large device costs the worker tens of milliseconds: handshakes are counted this often. */
    static final Duration DEVICE_READ_EVERY = Duration.ofSeconds(30);
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean closed;
    private final AtomicBoolean again = new AtomicBoolean();
    private Instant lastDeviceAt = Instant.EPOCH;
    private Map<WireGuardPublicKey, Instant> recentHandshakes = Map.of();
    private long leaseId;
    private NodeStatus lastWritten;
    private boolean failing;
    /** When etcd last renewed the lease (a write through the raft leader: proof of quorum), and why it last refused. */
    private volatile long acceptedAtNanos = System.nanoTime();
    private volatile String lastError = "";

    public StatusReporter(Client client, KeyLayout layout, String node, String version, DeviceWorker worker, Clock clock) {
        this.client = client;
        this.layout = layout;
        this.node = node;
        this.version = version;
        this.worker = worker;
        this.clock = clock;
    }

    /**
     * One round. A call while a round runs is folded into one more round right after it, so a
     * newly applied revision is reported at once (a rollout waits on it), never a timer period late.
     */
    public void tick() {
        if (closed || worker.applied() == null) {
            return;
        }
        // "again" before "busy": a round that ends between the two still sees this call (no report is lost).
        again.set(true);
        if (!busy.compareAndSet(false, true)) {
            return;
        }
        again.set(false);
        MeshSnapshot applied = worker.applied();
        // Not on every applied revision: a report follows each apply, and a full read of a large device
        // costs far more than the apply itself. Handshake counts may lag by DEVICE_READ_EVERY.
        boolean readDevice = lastDeviceAt.equals(Instant.EPOCH) || clock.instant().isAfter(lastDeviceAt.plus(DEVICE_READ_EVERY));
        // The device's handshake times are taken at each read; a report counts only those, never walking every peer.
        CompletableFuture<Map<WireGuardPublicKey, Instant>> handshakes = readDevice ? worker.read().thenApply(d -> {
            lastDeviceAt = clock.instant();
            recentHandshakes = recentHandshakes(d, lastDeviceAt);
            return recentHandshakes;
        }) : CompletableFuture.completedFuture(recentHandshakes);
        handshakes.thenCombine(worker.owned(), (recent, owned) -> status(applied, owned, recent))
                .thenCompose(this::publish)
                .whenComplete((ok, error) -> {
                    if (closed) {
                        return; // a report cut off by the closing etcd client ("Channel shutdownNow invoked") is no failure
                    }
                    if (error != null) {
                        leaseId = 0; // etcd lost it, or never had it: grant a new one next time
                        lastWritten = null;
                        lastError = Errors.rootMessage(error);
                        if (!failing) {
                            LOG.warn("cannot write {} ({}); retrying", layout.status(node), Errors.rootMessage(error));
                            failing = true;
                        }
                    } else {
                        failing = false;
                        acceptedAtNanos = System.nanoTime();
                    }
                    busy.set(false);
                    if (again.get()) {
                        tick();
                    }
                });
    }

    /**
     * Why etcd has not accepted a report from this host for longer than {@code grace}, or empty.
     * Each report renews the status lease, which only etcd's raft leader can do: a member that
     * lost quorum still answers reads and watches, but not this, so this is how the daemon sees
     * that it cannot reach a working etcd.
     */
    public java.util.Optional<String> notAcceptedFor(Duration grace) {
        long silent = System.nanoTime() - acceptedAtNanos;
        if (silent <= grace.toNanos()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("etcd has not accepted this host's status report for " + silent / 1_000_000_000
                + " s (no quorum, or unreachable" + (lastError.isEmpty() ? "" : ": " + lastError) + ")");
    }

    /** Each peer of {@code device} with a handshake in the last 3 minutes, and when it was. */
    static Map<WireGuardPublicKey, Instant> recentHandshakes(DeviceState device, Instant now) {
        Map<WireGuardPublicKey, Instant> recent = new HashMap<>();
        device.peers().forEach((key, peer) -> {
            if (peer.lastHandshake() != null && peer.lastHandshake().isAfter(now.minus(RECENT_HANDSHAKE))) {
                recent.put(key, peer.lastHandshake());
            }
        });
        return recent;
    }

    /** The peers keymesh configured (as of the last apply), and those of them with a handshake in the last 3 minutes (as of the last read). */
    private NodeStatus status(MeshSnapshot applied, Set<WireGuardPublicKey> owned, Map<WireGuardPublicKey, Instant> handshakes) {
        NodeRecord own = applied.records().get(node);
        Instant now = clock.instant();
        int recent = 0;
        for (Map.Entry<WireGuardPublicKey, Instant> handshake : handshakes.entrySet()) {
            if (owned.contains(handshake.getKey()) && handshake.getValue().isAfter(now.minus(RECENT_HANDSHAKE))) {
                recent++;
            }
        }
        int peers = owned.size();
        return new NodeStatus(node, own == null ? 0 : own.epoch(), version, applied.revision(), peers, recent, now);
    }

    /** Renews the lease on every tick (a put does not), granting a new one if it is gone; writes only a changed status. */
    private CompletableFuture<?> publish(NodeStatus status) {
        CompletableFuture<Long> lease = leaseId == 0
                ? client.getLeaseClient().grant(LEASE_TTL.toSeconds()).thenApply(r -> r.getID())
                : client.getLeaseClient().keepAliveOnce(leaseId).thenApply(r -> {
                    if (r.getTTL() <= 0) {
                        throw new IllegalStateException("lease " + r.getID() + " expired");
                    }
                    return r.getID();
                });
        return lease.thenCompose(id -> {
            boolean fresh = id != leaseId;
            leaseId = id;
            if (!fresh && sameApartFromTime(status, lastWritten)) {
                return CompletableFuture.completedFuture(null);
            }
            return client.getKVClient().put(EtcdBytes.key(layout.status(node)), EtcdBytes.value(Json.toLine(Json.toTree(status))),
                    PutOption.builder().withLeaseId(id).build()).thenRun(() -> lastWritten = status);
        });
    }

    /**
     * No more reports, and none still in flight is complained about: called before the etcd client
     * closes, which fails whatever it still carries.
     */
    public void close() {
        closed = true;
    }

    private static boolean sameApartFromTime(NodeStatus a, NodeStatus b) {
        return b != null && a.epoch() == b.epoch() && a.appliedRevision() == b.appliedRevision() && a.peers() == b.peers()
                && a.peersWithHandshake() == b.peersWithHandshake() && Objects.equals(a.version(), b.version());
    }

}
