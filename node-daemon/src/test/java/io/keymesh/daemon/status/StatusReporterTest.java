package io.keymesh.daemon.status;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseGrantResponse;
import io.grpc.Status;
import io.keymesh.daemon.keys.WireGuardKeys;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.reconcile.DeviceOverrides;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.wireguard.MemoryDevice;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.layout.KeyLayout;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A status report that the closing etcd client cuts off is no failure: a daemon that stops (after a
 * rejected join, say) does not follow its one line of why with "cannot write ... (Channel
 * shutdownNow invoked)". Against an etcd client whose put the test fails when it likes.
 */
class StatusReporterTest {
    @TempDir
    Path stateDirectory;

    /** An etcd client that grants every lease and holds every put in {@code put}, for the test to end. */
    private static Client client(CompletableFuture<Object> put) {
        Lease lease = proxy(Lease.class, "grant", CompletableFuture.completedFuture(
                new LeaseGrantResponse(io.etcd.jetcd.api.LeaseGrantResponse.newBuilder().setID(7).setTTL(30).build())));
        KV kv = proxy(KV.class, "put", put);
        return (Client) Proxy.newProxyInstance(Client.class.getClassLoader(), new Class<?>[] {Client.class},
                (self, method, args) -> switch (method.getName()) {
                    case "getLeaseClient" -> lease;
                    case "getKVClient" -> kv;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
    }

    private static <T> T proxy(Class<T> type, String name, Object answer) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, method, args) -> {
            if (method.getName().equals(name)) {
                return answer;
            }
            throw new UnsupportedOperationException(method.getName());
        }));
    }

    /** What the reporter logs when its put fails with what a closing client fails it with, closed first or not. */
    private String loggedWhenThePutIsCutOff(boolean closeFirst) throws Exception {
        Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
        WireGuardKeys keys = new WireGuardKeys(stateDirectory, WireGuardPrivateKey.generate(), null);
        DeviceWorker worker = new DeviceWorker(new MemoryDevice(), null, null, keys, "self", identity.publicKey(), "km0",
                DeviceOverrides.NONE, Set.of(), new Metrics(), (snapshot, owned) -> { });
        CompletableFuture<Object> put = new CompletableFuture<>();
        PrintStream err = System.err;
        ByteArrayOutputStream logged = new ByteArrayOutputStream();
        try {
            worker.submit(new MeshSnapshot(Map.of(), null, 5)); // not a member yet: nothing on the device, but applied
            for (int i = 0; i < 500 && worker.applied() == null; i++) {
                Thread.sleep(10);
            }
            StatusReporter reporter = new StatusReporter(client(put), new KeyLayout(KeyLayout.DEFAULT_PREFIX), "self", "test", worker,
                    Clock.systemUTC());
            System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
            reporter.tick();
            for (int i = 0; i < 500 && put.getNumberOfDependents() == 0; i++) { // the put is on its way
                Thread.sleep(10);
            }
            assertTrue(put.getNumberOfDependents() > 0, "the report never reached its put");
            if (closeFirst) {
                reporter.close();
            }
            put.completeExceptionally(Status.UNAVAILABLE.withDescription("Channel shutdownNow invoked").asRuntimeException());
            TimeUnit.MILLISECONDS.sleep(200);
        } finally {
            System.setErr(err);
            worker.close();
        }
        return logged.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aReportCutOffByTheClosingClientIsNotComplainedAbout() throws Exception {
        String open = loggedWhenThePutIsCutOff(false);
        assertTrue(open.contains("cannot write /keymesh/v1/status/self (UNAVAILABLE: Channel shutdownNow invoked); retrying"), open);
        String closed = loggedWhenThePutIsCutOff(true);
        assertFalse(closed.contains("cannot write"), closed);
    }
}
