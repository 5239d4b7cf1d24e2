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
        return new NodeRecord(sample.mesh(), "self", 1, state, identity.publicKey(), wg.publicKey(), List.of(), sample.addresses(),
                sample.allowedIps(), sample.keyIssuedAt(), sample.issuedAt());
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
}
