package io.keymesh.daemon.rotate;

import io.etcd.jetcd.Client;
import io.keymesh.daemon.join.Enrollment;
import io.keymesh.daemon.keys.WireGuardKeys;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.runtime.DaemonThreads;
import io.keymesh.runtime.Errors;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.NodeRecord;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's side of a key rotation. When its own verified record carries the authority's
 * rotation mark, it makes the next WireGuard key (persisted beside the current one before it is
 * sent anywhere) and asks for it with a request signed by its identity key. The authority
 * answers by committing the next epoch with that key; the device worker then promotes the key and
 * sets it (see {@code DeviceWorker}). One attempt per mark (record serial); a restart asks again,
 * with the same next key.
 */
public final class KeyRotation implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyRotation.class);

    private final Client client;
    private final KeyLayout layout;
    private final String mesh;
    private final String node;
    private final Ed25519PrivateKey identity;
    private final WireGuardKeys keys;
    private final List<Endpoint> endpoints;
    private final Metrics metrics;
    private final Clock clock;
    private static final long RETRY_SECONDS = 10;
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("keymesh-rotation"));
    private volatile MeshSnapshot latest;
    /** The serial of the marked record last acted on. */
    private final AtomicLong handledSerial = new AtomicLong();

    public KeyRotation(Client client, KeyLayout layout, String mesh, String node, Ed25519PrivateKey identity, WireGuardKeys keys,
                       List<Endpoint> endpoints, Metrics metrics, Clock clock) {
        this.client = client;
        this.layout = layout;
        this.mesh = mesh;
        this.node = node;
        this.identity = identity;
        this.keys = keys;
        this.endpoints = List.copyOf(endpoints);
        this.metrics = metrics;
        this.clock = clock;
        metrics.describe("keymesh_daemon_rotations_total", "counter", "Key rotations this host asked for, by the authority's answer");
        for (String outcome : new String[] {"admitted", "rejected", "failed"}) {
            metrics.add("keymesh_daemon_rotations_total", 0, "outcome", outcome);
        }
        metrics.describe("keymesh_daemon_rotation_seconds", "histogram",
                "From seeing the rotation mark on this host's record to the authority admitting the next key");
    }

    /**
     * Called with every snapshot the device worker applied (so after any promotion of an earlier
     * rotation's key); cheap unless this host's record asks it to rotate.
     */
    public void observe(MeshSnapshot snapshot) {
        latest = snapshot;
        NodeRecord own = snapshot.records().get(node);
        if (own == null || !own.isActive() || !own.isRotationRequested() || !own.identityKey().equals(identity.publicKey())
                || !own.wgPublicKey().equals(keys.current().publicKey())) {
            return;
        }
        long serial = own.serial();
        if (handledSerial.getAndSet(serial) == serial) {
            return;
        }
        try {
            thread.execute(() -> rotate(own));
        } catch (RejectedExecutionException e) {
            // closing
        }
    }

    private void rotate(NodeRecord own) {
        long started = System.nanoTime();
        try {
            WireGuardPrivateKey next = keys.prepareNext();
            LOG.info("the authority asks {} to rotate its WireGuard key (epoch {}); next key {} persisted", node, own.epoch(),
                    next.publicKey());
            long epoch = Enrollment.rotate(client, layout, mesh, node, identity, next.publicKey(), own.epoch(), endpoints, clock);
            metrics.inc("keymesh_daemon_rotations_total", "outcome", "admitted");
            metrics.observe("keymesh_daemon_rotation_seconds", (System.nanoTime() - started) / 1e9);
            LOG.info("rotation of {} admitted at epoch {}", node, epoch);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Enrollment.RejectedException e) {
            metrics.inc("keymesh_daemon_rotations_total", "outcome", "rejected");
            LOG.warn("{}; the current key stays in use", e.getMessage());
        } catch (Exception e) {
            metrics.inc("keymesh_daemon_rotations_total", "outcome", "failed");
            handledSerial.set(0);
            LOG.warn("cannot ask for the rotation of {} ({}); the current key stays in use; trying again in {} s", node,
                    Errors.rootMessage(e), RETRY_SECONDS);
            thread.schedule(() -> observe(latest), RETRY_SECONDS, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
