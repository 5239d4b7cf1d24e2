package io.keymesh.daemon.status;

import io.keymesh.runtime.Errors;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.daemon.wireguard.PeerStatus;
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
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code status/<node>} current, under a lease so it disappears when the daemon does.
 * Called on a timer, not per event: each tick builds the status from the device and the last
 * applied snapshot, writes it only if it changed, and otherwise just keeps the lease alive.
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
    private final AtomicBoolean busy = new AtomicBoolean();
    private long leaseId;
    private NodeStatus lastWritten;
    private boolean failing;

    public StatusReporter(Client client, KeyLayout layout, String node, String version, DeviceWorker worker, Clock clock) {
        this.client = client;
        this.layout = layout;
        this.node = node;
        this.version = version;
        this.worker = worker;
        this.clock = clock;
    }

    /** One round; overlapping calls are skipped while a round is still running. */
    public void tick() {
        MeshSnapshot applied = worker.applied();
        if (applied == null || !busy.compareAndSet(false, true)) {
            return;
        }
        worker.read().thenCombine(worker.owned(), (device, owned) -> status(applied, device, owned))
                .thenCompose(this::publish)
                .whenComplete((ok, error) -> {
                    if (error != null) {
                        leaseId = 0; // etcd lost it, or never had it: grant a new one next time
                        lastWritten = null;
                        if (!failing) {
                            LOG.warn("cannot write {} ({}); retrying", layout.status(node), Errors.rootMessage(error));
                            failing = true;
                        }
                    } else {
                        failing = false;
                    }
                    busy.set(false);
                });
    }

    NodeStatus status(MeshSnapshot applied, DeviceState device, Set<WireGuardPublicKey> owned) {
        NodeRecord own = applied.records().get(node);
        Instant now = clock.instant();
        int peers = 0;
        int recent = 0;
        for (WireGuardPublicKey key : owned) {
            PeerStatus peer = device.peers().get(key);
            if (peer != null) {
                peers++;
                if (peer.lastHandshake() != null && peer.lastHandshake().isAfter(now.minus(RECENT_HANDSHAKE))) {
                    recent++;
                }
            }
        }
        return new NodeStatus(node, own == null ? 0 : own.epoch(), version, applied.revision(), peers, recent, now);
    }

    private CompletableFuture<?> publish(NodeStatus status) {
        if (leaseId != 0 && sameApartFromTime(status, lastWritten)) {
            return client.getLeaseClient().keepAliveOnce(leaseId).thenAccept(r -> {
                if (r.getTTL() <= 0) {
                    throw new IllegalStateException("lease " + leaseId + " expired");
                }
            });
        }
        CompletableFuture<Long> lease = leaseId != 0 ? CompletableFuture.completedFuture(leaseId)
                : client.getLeaseClient().grant(LEASE_TTL.toSeconds()).thenApply(r -> r.getID());
        return lease.thenCompose(id -> {
            leaseId = id;
            return client.getKVClient().put(EtcdBytes.key(layout.status(node)), EtcdBytes.value(Json.toLine(Json.toTree(status))),
                    PutOption.builder().withLeaseId(id).build());
        }).thenRun(() -> lastWritten = status);
    }

    private static boolean sameApartFromTime(NodeStatus a, NodeStatus b) {
        return b != null && a.epoch() == b.epoch() && a.appliedRevision() == b.appliedRevision() && a.peers() == b.peers()
                && a.peersWithHandshake() == b.peersWithHandshake() && Objects.equals(a.version(), b.version());
    }

}
