package io.keymesh.daemon.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.daemon.keys.WireGuardKeys;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.wireguard.DesiredPeers;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.daemon.wireguard.MemoryDevice;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.PeerDelta;
import io.keymesh.daemon.wireguard.WireGuardDevice;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.testing.Samples;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The serial device worker against the in-memory device: minimal deltas, coalescing, recovery, hand-added peers. */
class DeviceWorkerTest {
    private final Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
    private final WireGuardPrivateKey wg = WireGuardPrivateKey.generate();
    private final Identity self = new Identity("self", identity.publicKey(), wg.publicKey());
    private final AtomicReference<Set<WireGuardPublicKey>> ownedSeen = new AtomicReference<>(Set.of());
    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path stateDirectory;
    private WireGuardKeys keys;

    @org.junit.jupiter.api.BeforeEach
    void keys() {
        keys = new WireGuardKeys(stateDirectory, wg, null);
    }

    private NodeRecord own() {
        NodeRecord sample = Samples.nodeRecord("self", 1, 1);
        return new NodeRecord(sample.mesh(), "self", 1, 1, sample.state(), identity.publicKey(), wg.publicKey(), sample.endpoints(),
                sample.addresses(), sample.allowedIps(), sample.keyIssuedAt(), sample.issuedAt(), null);
    }

    private MeshSnapshot mesh(long revision, NodeRecord... peers) {
        Map<String, NodeRecord> records = new HashMap<>();
        records.put("self", own());
        for (NodeRecord peer : peers) {
            records.put(peer.node(), peer);
        }
        return new MeshSnapshot(records, null, revision);
    }

    private DeviceWorker worker(WireGuardDevice device, Set<WireGuardPublicKey> owned) {
        return new DeviceWorker(device, null, null, keys, "self", identity.publicKey(), "km0", DeviceOverrides.NONE, owned, new Metrics(),
                (snapshot, nowOwned) -> ownedSeen.set(nowOwned));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void theDeviceFollowsTheSnapshotsAndARestartWithNothingChangedMutatesNothing() throws Exception {
        MemoryDevice device = new MemoryDevice();
        NodeRecord a = Samples.nodeRecord("a", 1, 2);
        NodeRecord b = Samples.nodeRecord("b", 1, 3);
        MeshSnapshot two = mesh(5, a, b);
        try (DeviceWorker worker = worker(device, Set.of())) {
            worker.submit(two);
            await(worker::inSync, "the device matches");
            assertEquals(Set.of(a.wgPublicKey(), b.wgPublicKey()), device.read().peers().keySet());
            assertEquals(wg.publicKey(), device.read().publicKey());
        }
        long mutations = device.mutations();
        try (DeviceWorker restarted = worker(device, ownedSeen.get())) {
            restarted.submit(two);
            await(restarted::inSync, "the restarted worker is in sync");
        }
        assertEquals(mutations, device.mutations(), "a restart with nothing changed touches nothing");
    }

    @Test
    void aRecordNamingTheNextKeyPromotesItOnDiskThenSetsItOnTheDeviceAndPeersMoveToTheirNewKeys() throws Exception {
        MemoryDevice device = new MemoryDevice();
        NodeRecord a = Samples.nodeRecord("a", 1, 2);
        NodeRecord b = Samples.nodeRecord("b", 1, 3);
        NodeRecord idle = Samples.nodeRecord("idle", 1, 4);
        try (DeviceWorker worker = worker(device, Set.of())) {
            worker.submit(mesh(5, a, b, idle));
            await(worker::inSync, "the peers are added");
            device.handshake(a.wgPublicKey(), java.time.Instant.now());
            device.handshake(b.wgPublicKey(), java.time.Instant.now());
            WireGuardPrivateKey next = keys.prepareNext();
            NodeRecord o = own();
            NodeRecord rotatedOwn = new NodeRecord(o.mesh(), o.node(), 2, 3, o.state(), o.identityKey(), next.publicKey(), o.endpoints(),
                    o.addresses(), o.allowedIps(), o.keyIssuedAt(), o.issuedAt(), null);
            WireGuardPublicKey aNext = WireGuardPrivateKey.generate().publicKey();
            NodeRecord rotatedA = new NodeRecord(a.mesh(), a.node(), 2, 2, a.state(), a.identityKey(), aNext, a.endpoints(),
                    a.addresses(), a.allowedIps(), a.keyIssuedAt(), a.issuedAt(), null);
            worker.submit(new MeshSnapshot(Map.of("self", rotatedOwn, "a", rotatedA, "b", b, "idle", idle), null, 6));
            await(() -> worker.inSync() && worker.applied().revision() == 6, "the rotations are applied");
            assertEquals(next.publicKey(), device.read().publicKey(), "the device runs the promoted key");
            assertEquals(next, keys.current());
            assertTrue(keys.next().isEmpty());
            assertEquals(next.toBase64Secret(), java.nio.file.Files.readString(stateDirectory.resolve("wireguard.key")).trim(),
                    "promoted on disk");
            assertEquals(Set.of(aNext, b.wgPublicKey(), idle.wgPublicKey()), device.read().peers().keySet(),
                    "a's old key is gone, its new key carries its addresses");
            assertEquals(DesiredPeers.peerFor(a, null, 0, address -> false).allowedIps(), device.read().peers().get(aNext).config().allowedIps());
            assertEquals(Set.of(aNext, b.wgPublicKey()), Set.copyOf(device.nudged()),
                    "the peers with a session are asked to handshake at once (a under its new key), the idle one is not");
            assertEquals(2, device.nudged().size(), "each once");
        }
    }

    @Test
    void aHandAddedPeerSurvivesWhileOwnedPeersAreRemoved() throws Exception {
        MemoryDevice device = new MemoryDevice();
        NodeRecord a = Samples.nodeRecord("a", 1, 2);
        WireGuardPublicKey manual = WireGuardPrivateKey.generate().publicKey();
        try (DeviceWorker worker = worker(device, Set.of())) {
            worker.submit(mesh(5, a));
            await(worker::inSync, "a is added");
            device.apply(new PeerDelta(List.of(new PeerConfig(manual, null, 0, List.of(IpPrefix.parse("203.0.113.0/24")))), List.of(), List.of()));
        }
        // A new worker reads the whole device back and diffs every peer on it: the hand-added one included.
        try (DeviceWorker restarted = worker(device, ownedSeen.get())) {
            restarted.submit(mesh(6));
            await(() -> restarted.inSync() && !device.read().peers().containsKey(a.wgPublicKey()), "a is removed");
            assertEquals(Set.of(manual), device.read().peers().keySet());
        }
    }

    @Test
    void withoutAVerifiedRecordOfItsOwnTheDeviceIsLeftAloneAndARevokedHostDropsItsPeers() throws Exception {
        MemoryDevice device = new MemoryDevice();
        NodeRecord a = Samples.nodeRecord("a", 1, 2);
        try (DeviceWorker worker = worker(device, Set.of())) {
            worker.submit(mesh(5, a));
            await(worker::inSync, "a is added");
        }
        long mutations = device.mutations();
        // Say the trust key was mistyped: nothing of this host verifies. The peers must stay.
        try (DeviceWorker misconfigured = worker(device, ownedSeen.get())) {
            MeshSnapshot withoutSelf = new MeshSnapshot(Map.of("a", a), null, 6);
            misconfigured.submit(withoutSelf);
            await(() -> misconfigured.applied() == withoutSelf, "the worker has looked at the snapshot");
            assertEquals(mutations, device.mutations(), "a configuration mistake changes nothing");
            assertTrue(!misconfigured.inSync(), "and the daemon is not ready");
        }
        NodeRecord own = own();
        NodeRecord revoked = new NodeRecord(own.mesh(), own.node(), 2, 2, io.keymesh.schema.record.NodeState.REVOKED, own.identityKey(),
                own.wgPublicKey(), List.of(), List.of(), List.of(), own.keyIssuedAt(), own.issuedAt(), null);
        try (DeviceWorker revokedWorker = worker(device, ownedSeen.get())) {
            revokedWorker.submit(new MeshSnapshot(Map.of("self", revoked, "a", a), null, 7));
            await(() -> device.read().peers().isEmpty(), "a revoked host removes the peers it owns");
        }
    }

    @Test
    void snapshotsArrivingDuringAnApplyCoalesceIntoOneMoreApply() throws Exception {
        AtomicInteger applies = new AtomicInteger();
        Object gate = new Object();
        AtomicReference<Boolean> open = new AtomicReference<>(false);
        MemoryDevice memory = new MemoryDevice();
        WireGuardDevice slow = new WireGuardDevice() {
            public DeviceState read() {
                return memory.read();
            }

            public void apply(PeerDelta delta) throws IOException {
                applies.incrementAndGet();
                synchronized (gate) {
                    while (!open.get()) {
                        try {
                            gate.wait();
                        } catch (InterruptedException e) {
                            throw new IOException(e);
                        }
                    }
                }
                memory.apply(delta);
            }

            public void configure(WireGuardPrivateKey key, int port) {
                memory.configure(key, port);
            }

            public void setFirewallMark(long mark) {
                memory.setFirewallMark(mark);
            }
        };
        try (DeviceWorker worker = worker(slow, Set.of())) {
            worker.submit(mesh(1, Samples.nodeRecord("p0", 1, 10)));
            await(() -> applies.get() == 1, "the first apply is running");
            List<NodeRecord> burst = new java.util.ArrayList<>();
            for (int i = 1; i <= 50; i++) {
                burst.add(Samples.nodeRecord("p" + i, 1, 10 + i));
                worker.submit(mesh(1 + i, burst.toArray(NodeRecord[]::new)));
            }
            synchronized (gate) {
                open.set(true);
                gate.notifyAll();
            }
            await(worker::inSync, "the burst is applied");
            assertEquals(2, applies.get(), "fifty snapshots during one apply cost one more apply");
            assertEquals(50, memory.read().peers().size());
        }
    }

    @Test
    void aFailedApplyIsReadBackAndCorrected() throws Exception {
        MemoryDevice memory = new MemoryDevice();
        AtomicInteger failuresLeft = new AtomicInteger(1);
        WireGuardDevice flaky = new WireGuardDevice() {
            public DeviceState read() {
                return memory.read();
            }

            public void apply(PeerDelta delta) throws IOException {
                if (failuresLeft.getAndDecrement() > 0) {
                    // Half of it happens, then the device fails: the retry must finish the job from what is there.
                    memory.apply(new PeerDelta(delta.adds().subList(0, delta.adds().size() / 2), List.of(), List.of()));
                    throw new IOException("device went away mid-apply");
                }
                memory.apply(delta);
            }

            public void configure(WireGuardPrivateKey key, int port) {
                memory.configure(key, port);
            }

            public void setFirewallMark(long mark) {
                memory.setFirewallMark(mark);
            }
        };
        NodeRecord[] peers = new NodeRecord[10];
        for (int i = 0; i < peers.length; i++) {
            peers[i] = Samples.nodeRecord("p" + i, 1, 20 + i);
        }
        try (DeviceWorker worker = worker(flaky, Set.of())) {
            worker.submit(mesh(3, peers));
            await(worker::inSync, "the retry corrected the device");
            assertEquals(10, memory.read().peers().size());
            assertTrue(failuresLeft.get() < 0, "the first apply failed");
        }
    }
}
