package io.keymesh.daemon.reconcile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.List;
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
        java.util.Random random = new java.util.Random(7);
        Map<String, NodeRecord> records = new java.util.HashMap<>();
        records.put("self", own(NodeState.ACTIVE));
        for (int i = 0; i < 60; i++) {
            records.put("n" + i, Samples.nodeRecord("n" + i, 1, 2 + i));
        }
        MeshSnapshot previous = new MeshSnapshot(records, config, 1);
        DevicePlan plan = DevicePlan.of(previous, self, "km0", DeviceOverrides.NONE);
        Map<io.keymesh.schema.crypto.WireGuardPublicKey, io.keymesh.daemon.wireguard.PeerConfig> desired = new java.util.HashMap<>(plan.peers());
        for (int round = 0; round < 200; round++) {
            Map<String, NodeRecord> next = new java.util.HashMap<>(previous.records());
            for (int change = 0; change < 1 + random.nextInt(3); change++) {
                String node = "n" + random.nextInt(70);
                NodeRecord before = next.get(node);
                long epoch = before == null ? 1 : before.epoch() + 1;
                NodeRecord fresh = Samples.nodeRecord(node, epoch, 2 + Integer.parseInt(node.substring(1)));
                NodeState state = random.nextInt(5) == 0 ? NodeState.REVOKED : NodeState.ACTIVE;
                next.put(node, new NodeRecord(fresh.mesh(), node, epoch, epoch, state, fresh.identityKey(),
                        random.nextBoolean() && before != null ? before.wgPublicKey() : fresh.wgPublicKey(),
                        random.nextBoolean() ? List.of() : fresh.endpoints(), fresh.addresses(), fresh.allowedIps(),
                        fresh.keyIssuedAt(), fresh.issuedAt(), null));
            }
            MeshSnapshot snapshot = new MeshSnapshot(next, config, round + 2);
            DevicePlan.Advance advance = plan.advance(previous, snapshot, self, ip -> null);
            DevicePlan fromScratch = DevicePlan.of(snapshot, self, "km0", DeviceOverrides.NONE);
            Map<io.keymesh.schema.crypto.WireGuardPublicKey, io.keymesh.daemon.wireguard.PeerConfig> device = Map.copyOf(desired);
            advance.applyTo(desired);
            assertEquals(fromScratch.peers(), desired, "round " + round);
            java.util.Set<io.keymesh.schema.crypto.WireGuardPublicKey> owned = new java.util.HashSet<>(device.keySet());
            assertEquals(io.keymesh.daemon.wireguard.PeerDiff.compute(fromScratch.peers(), device, owned),
                    io.keymesh.daemon.wireguard.PeerDiff.computeFor(advance.scope(), desired, device, owned), "round " + round);
            previous = snapshot;
        }
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
    void aChangedRecordAdvertisingAnAddressAnotherPeerHoldsMeansPlanningAfresh() {
        MeshSnapshot before = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer), config, 7);
        DevicePlan plan = DevicePlan.of(before, self, "km0", DeviceOverrides.NONE);
        NodeRecord fresh = Samples.nodeRecord("twin", 1, 40);
        NodeRecord twin = new NodeRecord(fresh.mesh(), "twin", 1, 1, NodeState.ACTIVE, fresh.identityKey(), fresh.wgPublicKey(),
                peer.endpoints(), fresh.addresses(), fresh.allowedIps(), fresh.keyIssuedAt(), fresh.issuedAt(), null);
        MeshSnapshot next = new MeshSnapshot(Map.of("self", own(NodeState.ACTIVE), "peer", peer, "twin", twin), config, 8);
        assertNull(plan.advance(before, next, self, ip -> peer.wgPublicKey()),
                "the peer holding the address loses it: more than the changed record's peer changes");
        DevicePlan afresh = DevicePlan.of(next, self, "km0", DeviceOverrides.NONE);
        assertEquals(peer.allowedIps(), afresh.peers().get(peer.wgPublicKey()).allowedIps(), "and planned afresh, neither has it");
    }
}
