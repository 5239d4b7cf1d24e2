package io.keymesh.daemon.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.testing.Samples;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.PeerDelta;
import io.keymesh.daemon.wireguard.PeerDiff;
import io.keymesh.daemon.wireguard.PeerTable;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.List;
import java.util.Set;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DevicePlanTest {
    private final Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
    private final WireGuardPrivateKey wg = WireGuardPrivateKey.generate();
    private final Identity self = new Identity("self", identity.publicKey(), wg.publicKey());
    private final NodeRecord peer = Samples.nodeRecord("peer", 1, 2);
    private final MeshConfig config = new MeshConfig(Samples.MESH, List.of(IpPrefix.parse("198.18.0.0/15")), 51999, 30, 1380, Samples.NOW);

    private NodeRecord own(NodeState state) {
        NodeRecord sample = Samples.nodeRecord("self", 1, 1);
        return new NodeRecord(sample.mesh(), "self", 1, 1, state, identity.publicKey(), wg.publicKey(), List.of(), sample.addresses(),
                sample.allowedIps(), sample.keyIssuedAt(), sample.issuedAt(), null);
    }

    @Test
    void aMemberGetsItsPeersItsAddressWithTheOverlayLengthAndTheMeshSettings() {
        DevicePlan plan = DevicePlan.of(new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 7), self, "km0",
                DeviceOverrides.NONE);
        assertTrue(plan.member());
        assertEquals("[198.18.0.1/15]", plan.link().addresses().toString());
        assertEquals(1380, plan.link().mtu());
        assertEquals(51999, plan.listenPort());
        assertEquals(Map.of(peer.wgPublicKey(), plan.peers().get(peer.wgPublicKey())), plan.peers());
        assertEquals(30, plan.peers().get(peer.wgPublicKey()).keepaliveSeconds(), "behind NAT (no endpoint): the mesh's keepalive");
    }

    @Test
    void hostSettingsOverrideTheMeshConfigAndDefaultsApplyWithoutOne() {
        MeshSnapshot mesh = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), null, 7);
        DevicePlan defaults = DevicePlan.of(mesh, self, "km0", DeviceOverrides.NONE);
        assertEquals(51820, defaults.listenPort());
        assertNull(defaults.link().mtu(), "underlay MTU minus 80, found at apply time");
        assertEquals(25, defaults.peers().get(peer.wgPublicKey()).keepaliveSeconds());
        assertEquals("[198.18.0.1/32]", defaults.link().addresses().toString());

        DevicePlan overridden = DevicePlan.of(new MeshSnapshot(mesh.records(), config, 7), self, "km0", new DeviceOverrides(40000, 15, 1300));
        assertEquals(40000, overridden.listenPort());
        assertEquals(1300, overridden.link().mtu());
        assertEquals(15, overridden.peers().get(peer.wgPublicKey()).keepaliveSeconds());
    }

    @Test
    void withoutAnActiveRecordForThisVeryHostThereAreNoPeersAndTheInterfaceIsLeftAlone() {
        NodeRecord impostor = Samples.nodeRecord("self", 1, 1);
        for (Map<String, NodeRecord> records : List.of(Map.of("peer", peer), Map.of("self", impostor, "peer", peer),
                Map.of("self", own(NodeState.REVOKED), "peer", peer))) {
            DevicePlan plan = DevicePlan.of(new MeshSnapshot(records, config, 7), self, "km0", DeviceOverrides.NONE);
            assertFalse(plan.member());
            assertNull(plan.link());
            assertTrue(plan.peers().isEmpty());
        }
    }

    @Test
    void advancingByTheChangedRecordsGivesTheSamePlanAndDeltaAsPlanningAfresh() {
        advanceAgainstPlanningAfresh(new java.util.Random(7), 0);
    }

    @Test
    void advancingGivesTheSamePlanAsPlanningAfreshWhenHostsShareUnderlayAddresses() {
        // 45 addresses for up to 70 nodes, some with two endpoints: addresses become contested and
        // uncontested all the time, and each time other peers than the changed ones change. And 3
        // addresses: every one always contested.
        for (int seed = 1; seed <= 5; seed++) {
            advanceAgainstPlanningAfresh(new java.util.Random(seed), 45);
            advanceAgainstPlanningAfresh(new java.util.Random(seed), 3);
        }
    }

    /**
     * 200 random rounds of one to three changed records (joins, key changes, revocations, moved
     * endpoints), each advanced from the previous plan and compared with planning afresh: the
     * same desired peers, and the same delta for a device that matched the previous plan. The
     * device is a real {@link PeerTable}, so the advance sees who holds each address there. No
     * round may fall back to planning afresh.
     *
     * @param sharedAddresses 0 for an address per host, else how many underlay addresses all hosts share
     */
    private void advanceAgainstPlanningAfresh(java.util.Random random, int sharedAddresses) {
        Map<String, NodeRecord> records = new java.util.HashMap<>();
        records.put("self", own(NodeState.ACTIVE));
        for (int i = 0; i < 60; i++) {
            records.put("n" + i, endpoints(Samples.nodeRecord("n" + i, 1, 2 + i), random, sharedAddresses));
        }
        MeshSnapshot previous = new MeshSnapshot(records, config, 1);
        DevicePlan plan = DevicePlan.of(previous, self, "km0", DeviceOverrides.NONE);
        Map<WireGuardPublicKey, PeerConfig> desired = new java.util.HashMap<>(plan.peers());
        PeerTable device = new PeerTable(plan.peers());
        int flips = 0;
        for (int round = 0; round < 200; round++) {
            Map<String, NodeRecord> next = new java.util.HashMap<>(previous.records());
            for (int change = 0; change < 1 + random.nextInt(3); change++) {
                String node = "n" + random.nextInt(70);
                NodeRecord before = next.get(node);
                long epoch = before == null ? 1 : before.epoch() + 1;
                NodeRecord fresh = endpoints(Samples.nodeRecord(node, epoch, 2 + Integer.parseInt(node.substring(1))), random, sharedAddresses);
                NodeState state = random.nextInt(5) == 0 ? NodeState.REVOKED : NodeState.ACTIVE;
                next.put(node, new NodeRecord(fresh.mesh(), node, epoch, epoch, state, fresh.identityKey(),
                        random.nextBoolean() && before != null ? before.wgPublicKey() : fresh.wgPublicKey(),
                        random.nextInt(4) == 0 ? List.of() : fresh.endpoints(), fresh.addresses(), fresh.allowedIps(),
                        fresh.keyIssuedAt(), fresh.issuedAt(), null));
            }
            MeshSnapshot snapshot = new MeshSnapshot(next, config, round + 2);
            DevicePlan.Advance advance = plan.advance(previous, snapshot, self, device::holder);
            assertNotNull(advance, "round " + round + ": advanced, not planned afresh");
            DevicePlan fromScratch = DevicePlan.of(snapshot, self, "km0", DeviceOverrides.NONE);
            Map<WireGuardPublicKey, PeerConfig> before = Map.copyOf(desired);
            advance.applyTo(desired);
            assertEquals(fromScratch.peers(), desired, "round " + round);
            assertEquals(io.keymesh.daemon.wireguard.UnderlayClaims.contested(next.values(), next.get("self")),
                    advance.plan().claims().contested(), "round " + round + ": the index against a count afresh");
            Set<WireGuardPublicKey> owned = new java.util.HashSet<>(before.keySet());
            PeerDelta delta = PeerDiff.computeFor(advance.scope(), desired, device.peers(), owned);
            assertEquals(PeerDiff.compute(fromScratch.peers(), before, owned), delta, "round " + round);
            device.apply(delta);
            assertEquals(allowedIps(fromScratch.peers()), allowedIps(device.peers()), "round " + round + ": the device holds what the plan says");
            for (String node : next.keySet()) {
                NodeRecord record = next.get(node);
                NodeRecord was = previous.records().get(node);
                if (record == was && was != null && desired.get(was.wgPublicKey()) != null
                        && !desired.get(was.wgPublicKey()).equals(before.get(was.wgPublicKey()))) {
                    flips++; // an unchanged record's peer changed: an address of it flipped
                }
            }
            plan = advance.plan();
            previous = snapshot;
        }
        if (sharedAddresses > 10) {
            assertTrue(flips > 20, "the rounds exercised contested addresses that flip: " + flips);
        }
    }

    /** Each peer's allowed IPs: the device keeps an endpoint the plan leaves open (WireGuard's roaming), so compare these. */
    private static Map<WireGuardPublicKey, Set<IpPrefix>> allowedIps(Map<WireGuardPublicKey, PeerConfig> peers) {
        Map<WireGuardPublicKey, Set<IpPrefix>> allowed = new java.util.HashMap<>();
        peers.forEach((key, peer) -> allowed.put(key, Set.copyOf(peer.allowedIps())));
        return allowed;
    }

    /** {@code record} with one or two endpoints on {@code shared} addresses (0: as it is). */
    private static NodeRecord endpoints(NodeRecord record, java.util.Random random, int shared) {
        if (shared == 0) {
            return record;
        }
        List<io.keymesh.schema.record.Endpoint> endpoints = new java.util.ArrayList<>();
        for (int i = 0; i < 1 + random.nextInt(2); i++) {
            endpoints.add(io.keymesh.schema.record.Endpoint.parse("203.0.113." + (1 + random.nextInt(shared)) + ":" + (20000 + random.nextInt(1000))));
        }
        return new NodeRecord(record.mesh(), record.node(), record.epoch(), record.serial(), record.state(), record.identityKey(),
                record.wgPublicKey(), endpoints, record.addresses(), record.allowedIps(), record.keyIssuedAt(), record.issuedAt(), null);
    }

    @Test
    void aChangeAtAnAddressTenThousandHostsShareTouchesOnlyTheChangedPeer() {
        Map<String, NodeRecord> records = new java.util.HashMap<>();
        records.put("self", own(NodeState.ACTIVE));
        for (int i = 0; i < 10_000; i++) {
            records.put("n" + i, atAddress(Samples.nodeRecord("n" + i, 1, 2), "198.51.100.7:" + (20000 + i)));
        }
        MeshSnapshot before = new MeshSnapshot(records, config, 1);
        DevicePlan plan = DevicePlan.of(before, self, "km0", DeviceOverrides.NONE);
        NodeRecord moved = atAddress(records.get("n5"), "198.51.100.7:40000");
        MeshSnapshot next = new MeshSnapshot(before.records().with("n5", moved), config, 2);
        DevicePlan.Advance advance = plan.advance(before, next, self, ip -> null);
        assertEquals(Set.of(moved.wgPublicKey()), advance.scope(), "a new port behind the shared address changes that peer alone");

        // The first host to leave for an address of its own gets it; the second to join it takes it away again.
        NodeRecord alone = atAddress(records.get("n6"), "198.51.100.8:20000");
        MeshSnapshot third = new MeshSnapshot(next.records().with("n6", alone), config, 3);
        DevicePlan.Advance leaving = advance.plan().advance(next, third, self, ip -> null);
        assertEquals(Set.of(alone.wgPublicKey()), leaving.scope());
        assertTrue(leaving.changes().get(alone.wgPublicKey()).allowedIps().contains(IpPrefix.parse("198.51.100.8/32")));
        NodeRecord joining = atAddress(records.get("n7"), "198.51.100.8:20001");
        MeshSnapshot fourth = new MeshSnapshot(third.records().with("n7", joining), config, 4);
        DevicePlan.Advance contesting = leaving.plan().advance(third, fourth, self, ip -> ip.equals(IpPrefix.parse("198.51.100.8/32"))
                ? alone.wgPublicKey() : null);
        assertEquals(Set.of(alone.wgPublicKey(), joining.wgPublicKey()), contesting.scope());
        assertEquals(alone.allowedIps(), contesting.changes().get(alone.wgPublicKey()).allowedIps(), "neither holds the contested address");
        assertEquals(joining.allowedIps(), contesting.changes().get(joining.wgPublicKey()).allowedIps());
    }

    private static NodeRecord atAddress(NodeRecord record, String endpoint) {
        return new NodeRecord(record.mesh(), record.node(), record.epoch(), record.serial(), record.state(), record.identityKey(),
                record.wgPublicKey(), List.of(io.keymesh.schema.record.Endpoint.parse(endpoint)), record.addresses(), record.allowedIps(),
                record.keyIssuedAt(), record.issuedAt(), null);
    }

    @Test
    void aChangeOfThisHostsRecordOrTheMeshConfigMeansPlanningAfresh() {
        MeshSnapshot before = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 7);
        DevicePlan plan = DevicePlan.of(before, self, "km0", DeviceOverrides.NONE);
        MeshConfig other = new MeshConfig(Samples.MESH, List.of(IpPrefix.parse("198.18.0.0/15")), 51999, 10, 1380, Samples.NOW.plusSeconds(1));
        assertNull(plan.advance(before, new MeshSnapshot(before.records(), other, 8), self, ip -> null));
        assertNull(plan.advance(before, new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 8), self, ip -> null));
    }

    @Test
    void aChangedRecordAdvertisingAnAddressAnotherPeerHoldsTakesItFromThatPeerToo() {
        MeshSnapshot before = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 7);
        DevicePlan plan = DevicePlan.of(before, self, "km0", DeviceOverrides.NONE);
        NodeRecord fresh = Samples.nodeRecord("twin", 1, 40);
        NodeRecord twin = new NodeRecord(fresh.mesh(), "twin", 1, 1, NodeState.ACTIVE, fresh.identityKey(), fresh.wgPublicKey(),
                peer.endpoints(), fresh.addresses(), fresh.allowedIps(), fresh.keyIssuedAt(), fresh.issuedAt(), null);
        MeshSnapshot next = new MeshSnapshot(before.records().with("twin", twin), config, 8);
        DevicePlan.Advance advance = plan.advance(before, next, self, ip -> peer.wgPublicKey());
        assertEquals(Set.of(peer.wgPublicKey(), twin.wgPublicKey()), advance.scope(), "the peer holding the address loses it");
        assertEquals(peer.allowedIps(), advance.changes().get(peer.wgPublicKey()).allowedIps(), "neither has it");
        assertEquals(twin.allowedIps(), advance.changes().get(twin.wgPublicKey()).allowedIps());
        assertEquals(DevicePlan.of(next, self, "km0", DeviceOverrides.NONE).peers(), advance.changes());
    }

    @Test
    void aChangedRecordAdvertisingAnotherPeersOverlayAddressMeansPlanningAfresh() {
        MeshSnapshot before = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 7);
        DevicePlan plan = DevicePlan.of(before, self, "km0", DeviceOverrides.NONE);
        NodeRecord odd = atAddress(Samples.nodeRecord("odd", 1, 41), peer.allowedIps().get(0).address().getHostAddress() + ":51820");
        MeshSnapshot next = new MeshSnapshot(before.records().with("odd", odd), config, 8);
        assertNull(plan.advance(before, next, self, ip -> ip.equals(peer.allowedIps().get(0)) ? peer.wgPublicKey() : null),
                "an address held on the device for another reason than an endpoint: more than the changed peers may change");
    }
}
