package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.reconcile.DeviceOverrides;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.PeerDelta;
import io.keymesh.daemon.wireguard.PeerDiff;
import io.keymesh.daemon.wireguard.UapiDevice;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import java.time.Instant;
import java.util.HashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One changed peer on a wireguard-go device holding 10,000 peers: keymesh's per-peer delta over
 * the control socket, against rewriting the whole configuration with {@code wg syncconf}, side
 * by side in one run on one device. Run with
 * the command in BENCHMARKS.md; {@code -Dkeymesh.bench.peers=N}.
 */
class PeerApplyBenchmark {
    private static final int PEERS = Integer.getInteger("keymesh.bench.peers", 10_000);
    private static final int ROUNDS = Integer.getInteger("keymesh.bench.rounds", 25);
    /**
     * The CI guard (see BENCHMARKS.md): the target is 50 times cheaper than syncconf; the guard
     * fails below 25, wide enough for this noisy machine and far above the 2 to 3 times that the
     * regression of issue 17 measured.
     */
    private static final boolean GUARD = Boolean.getBoolean("keymesh.bench.guard");
    private static final double REQUIRED_RATIO = GUARD ? 25 : 50;

    /** Where the peers' underlay addresses come from. */
    enum Endpoints {
        /** Each host its own address (198.19.0.0/16); a change moves a host to a new address of its own. */
        DISTINCT,
        /**
         * Every host behind one NAT address (192.0.2.1, a port each): contested, so nobody's allowed
         * IP. A change moves a host to 192.0.2.2, which the second move makes contested again, so
         * every later change touches that address too.
         */
        SHARED
    }

    @TempDir
    Path dir;

    @Test
    void oneChangedPeerAtScale() throws Exception {
        byte[] id = new byte[3];
        new SecureRandom().nextBytes(id);
        String suffix = HexFormat.of().formatHex(id);
        String namespace = "kmbench-" + suffix;
        String iface = "kmb" + suffix;
        run("ip", "netns", "add", namespace);
        Process wireguardGo = null;
        try {
            wireguardGo = new ProcessBuilder("ip", "netns", "exec", namespace, "wireguard-go", "-f", iface)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            Path socket = UapiDevice.SOCKET_DIRECTORY.resolve(iface + ".sock");
            for (int i = 0; i < 500 && !Files.exists(socket); i++) {
                Thread.sleep(20);
            }
            measure(iface);
        } finally {
            if (wireguardGo != null) {
                wireguardGo.destroy();
                wireguardGo.waitFor(10, TimeUnit.SECONDS);
            }
            ProcessHandle.allProcesses()
                    .filter(p -> p.info().commandLine().map(c -> c.contains("wireguard-go -f " + iface)).orElse(false))
                    .forEach(ProcessHandle::destroyForcibly);
            Files.deleteIfExists(UapiDevice.SOCKET_DIRECTORY.resolve(iface + ".sock"));
            run("ip", "netns", "del", namespace);
        }
    }

    private void measure(String iface) throws Exception {
        UapiDevice device = new UapiDevice(iface);
        WireGuardPrivateKey own = WireGuardPrivateKey.generate();
        device.configure(own, 51820);
        Map<WireGuardPublicKey, PeerConfig> desired = new LinkedHashMap<>();
        for (int i = 0; i < PEERS; i++) {
            PeerConfig peer = peer(WireGuardPrivateKey.generate().publicKey(), i, 0);
            desired.put(peer.publicKey(), peer);
        }
        long loadStart = System.nanoTime();
        device.apply(new PeerDelta(new ArrayList<>(desired.values()), List.of(), List.of()));
        double loadMs = (System.nanoTime() - loadStart) / 1e6;
        assertEquals(PEERS, device.read().peers().size());
        Set<WireGuardPublicKey> owned = desired.keySet();
        List<WireGuardPublicKey> keys = new ArrayList<>(owned);

        double[] applyOnly = new double[ROUNDS];
        double[] readDiffApply = new double[ROUNDS];
        double[] wgSet = new double[ROUNDS];
        double[] syncconf = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            // keymesh, the delta alone: what the daemon writes to the device for one changed record.
            PeerConfig changed = peer(keys.get(round), round, 1);
            desired.put(changed.publicKey(), changed);
            long t = System.nanoTime();
            device.apply(new PeerDelta(List.of(), List.of(changed), List.of()));
            applyOnly[round] = (System.nanoTime() - t) / 1e6;

            // keymesh, a whole daemon run: read the device back, diff, apply.
            changed = peer(keys.get(round), round, 2);
            desired.put(changed.publicKey(), changed);
            t = System.nanoTime();
            DeviceState state = device.read();
            PeerDelta delta = PeerDiff.compute(desired, state.configs(), owned);
            device.apply(delta);
            readDiffApply[round] = (System.nanoTime() - t) / 1e6;
            assertEquals(1, delta.size());

            // The wg tool, one peer (the wg backend).
            changed = peer(keys.get(round), round, 3);
            desired.put(changed.publicKey(), changed);
            t = System.nanoTime();
            run("wg", "set", iface, "peer", changed.publicKey().base64(), "endpoint", changed.endpoint().toString(),
                    "allowed-ips", changed.allowedIps().get(0).toString());
            wgSet[round] = (System.nanoTime() - t) / 1e6;

            // wg syncconf with the whole configuration, one peer changed (file written before the clock starts).
            changed = peer(keys.get(round), round, 4);
            desired.put(changed.publicKey(), changed);
            Path conf = config(own, desired);
            t = System.nanoTime();
            run("wg", "syncconf", iface, conf.toString());
            syncconf[round] = (System.nanoTime() - t) / 1e6;
            assertEquals(changed.endpoint(), device.read().peers().get(changed.publicKey()).config().endpoint());
        }
        // Last: each variant's first run rewrites every peer.
        double worker = median(workerRuns(device, own, keys, Endpoints.DISTINCT));
        double workerShared = median(workerRuns(device, own, keys, Endpoints.SHARED));
        double apply = median(applyOnly);
        double run = median(readDiffApply);
        double set = median(wgSet);
        double sync = median(syncconf);
        System.out.printf(Locale.ROOT, "%n=== PeerApplyBenchmark: one changed peer on a device with %d peers (medians of %d rounds) ===%n"
                        + "initial load of %d peers over the control socket: %.1f ms%n"
                        + "keymesh daemon worker run, distinct endpoints (plan from the verified records, diff, apply): %8.2f ms%n"
                        + "keymesh daemon worker run, all hosts behind one address:                    %8.2f ms%n"
                        + "keymesh uapi delta alone (apply only):   %8.2f ms%n"
                        + "keymesh run with a full read-back (first run, after a failure, every 60 s): %8.2f ms%n"
                        + "wg set, one peer:                        %8.2f ms%n"
                        + "wg syncconf, whole configuration:        %8.2f ms%n"
                        + "syncconf / daemon worker run: %.0fx distinct, %.0fx shared; syncconf / delta alone: %.0fx; "
                        + "syncconf / full read-back run: %.1fx%n%n",
                PEERS, ROUNDS, PEERS, loadMs, worker, workerShared, apply, run, set, sync, sync / worker, sync / workerShared,
                sync / apply, sync / run);
        assertTrue(sync / worker >= REQUIRED_RATIO, String.format(Locale.ROOT,
                "with distinct endpoints the daemon's run must be at least %.0f times cheaper than syncconf: %.2f ms against %.2f ms",
                REQUIRED_RATIO, worker, sync));
        assertTrue(sync / workerShared >= REQUIRED_RATIO, String.format(Locale.ROOT,
                "with a shared endpoint address the daemon's run must be at least %.0f times cheaper than syncconf: %.2f ms against %.2f ms",
                REQUIRED_RATIO, workerShared, sync));
    }

    /**
     * The daemon's own path: a {@link DeviceWorker} holding 10,000 peers gets a snapshot in which
     * one record changed; the clock runs from submit to the worker's report that it is applied.
     */
    private double[] workerRuns(UapiDevice device, WireGuardPrivateKey own, List<WireGuardPublicKey> keys, Endpoints endpoints)
            throws Exception {
        Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
        Map<String, NodeRecord> records = new HashMap<>();
        records.put("self", record("self", 1, identity.publicKey(), own.publicKey(), null, 0));
        for (int i = 0; i < keys.size(); i++) {
            Endpoint endpoint = endpoints == Endpoints.SHARED ? Endpoint.parse("192.0.2.1:" + (20000 + i))
                    : Endpoint.parse("198.19." + (i / 256) + "." + (i % 256) + ":51820");
            records.put("node-" + i, record("node-" + i, 1, Ed25519PrivateKey.generate().publicKey(), keys.get(i), endpoint, i));
        }
        BlockingQueue<MeshSnapshot> appliedQueue = new LinkedBlockingQueue<>();
        long revision = 1;
        double[] runs = new double[ROUNDS];
        try (DeviceWorker worker = new DeviceWorker(device, null, null,
                new io.keymesh.daemon.keys.WireGuardKeys(java.nio.file.Path.of("/nonexistent-unused"), own, null), "self",
                identity.publicKey(), "bench", DeviceOverrides.NONE, Set.copyOf(keys), new Metrics(),
                (snapshot, owned) -> appliedQueue.add(snapshot))) {
            // As the daemon's VerifiedMesh does: each snapshot is the previous one with one record replaced.
            io.keymesh.daemon.collect.PersistentMap<String, NodeRecord> mesh = io.keymesh.daemon.collect.PersistentMap.copyOf(records);
            MeshSnapshot first = new MeshSnapshot(mesh, null, revision);
            worker.submit(first);
            awaitApplied(appliedQueue, first);
            for (int round = 0; round < ROUNDS; round++) {
                NodeRecord old = mesh.get("node-" + round);
                Endpoint moved = endpoints == Endpoints.SHARED ? Endpoint.parse("192.0.2.2:" + (30000 + round))
                        : Endpoint.parse("198.19." + (200 + round / 256) + "." + (round % 256) + ":" + (30000 + round));
                mesh = mesh.with(old.node(), record(old.node(), 2, old.identityKey(), old.wgPublicKey(), moved, round));
                MeshSnapshot next = new MeshSnapshot(mesh, null, ++revision);
                long t = System.nanoTime();
                worker.submit(next);
                awaitApplied(appliedQueue, next);
                runs[round] = (System.nanoTime() - t) / 1e6;
                DeviceState after = device.read();
                assertEquals(moved, after.peers().get(old.wgPublicKey()).config().endpoint());
                // The semantics of contested addresses hold on the device: a shared address is nobody's.
                IpPrefix movedTo = IpPrefix.host(moved.address());
                long holders = after.configs().values().stream().filter(p -> p.allowedIps().contains(movedTo)).count();
                assertEquals(endpoints == Endpoints.SHARED && round > 0 ? 0 : 1, holders, "peers holding " + movedTo + " in round " + round);
            }
        }
        return runs;
    }

    private static void awaitApplied(BlockingQueue<MeshSnapshot> queue, MeshSnapshot wanted) throws InterruptedException {
        while (true) {
            MeshSnapshot got = queue.poll(60, TimeUnit.SECONDS);
            if (got == null) {
                throw new AssertionError("the worker did not apply the snapshot within 60 s");
            }
            if (got == wanted) {
                return;
            }
        }
    }

    private static NodeRecord record(String node, long epoch, Ed25519PublicKey identity, WireGuardPublicKey key, Endpoint endpoint, int i) {
        int host = i + 1;
        List<IpPrefix> address = List.of(IpPrefix.parse("198.18." + (host / 256) + "." + (host % 256) + "/32"));
        Instant now = Instant.now();
        return new NodeRecord("bench", node, epoch, epoch, NodeState.ACTIVE, identity, key, endpoint == null ? List.of() : List.of(endpoint),
                address, address, now, now, null);
    }

    private static PeerConfig peer(WireGuardPublicKey key, int i, int variant) {
        int host = i + 1;
        return new PeerConfig(key, Endpoint.parse("192.0.2." + (1 + i % 250) + ":" + (20000 + (i * 7 + variant) % 40000)), 0,
                List.of(IpPrefix.parse("198.18." + (host / 256) + "." + (host % 256) + "/32")));
    }

    private Path config(WireGuardPrivateKey own, Map<WireGuardPublicKey, PeerConfig> peers) throws Exception {
        StringBuilder text = new StringBuilder("[Interface]\nPrivateKey = ").append(own.toBase64Secret()).append("\nListenPort = 51820\n");
        for (PeerConfig p : peers.values()) {
            text.append("\n[Peer]\nPublicKey = ").append(p.publicKey().base64())
                    .append("\nEndpoint = ").append(p.endpoint())
                    .append("\nAllowedIPs = ").append(p.allowedIps().get(0)).append('\n');
        }
        Path file = dir.resolve("wg.conf");
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, text, StandardCharsets.US_ASCII);
        return file;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
    }
}
