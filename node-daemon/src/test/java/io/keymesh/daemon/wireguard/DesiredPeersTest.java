package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.testing.Samples;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DesiredPeersTest {
    private final NodeRecord self = Samples.nodeRecord("self", 1, 1);
    private final NodeRecord a = Samples.nodeRecord("a", 1, 2);
    private final NodeRecord b = Samples.nodeRecord("b", 2, 3);

    private static NodeRecord withoutEndpoint(NodeRecord r) {
        return new NodeRecord(r.mesh(), r.node(), r.epoch(), r.epoch(), r.state(), r.identityKey(), r.wgPublicKey(), List.of(), r.addresses(),
                r.allowedIps(), r.keyIssuedAt(), r.issuedAt(), null);
    }

    @Test
    void everyActiveNodeButSelfIsAPeerWithItsAddresses() {
        NodeRecord revoked = new NodeRecord(b.mesh(), b.node(), 3, 3, NodeState.REVOKED, b.identityKey(), b.wgPublicKey(), List.of(),
                List.of(), List.of(), b.keyIssuedAt(), b.issuedAt(), null);
        var peers = DesiredPeers.of(List.of(self, a, revoked), self, 25);
        assertEquals(1, peers.size());
        PeerConfig peer = peers.get(a.wgPublicKey());
        assertEquals(a.endpoints().get(0), peer.endpoint());
        java.util.List<io.keymesh.schema.record.IpPrefix> expected = new java.util.ArrayList<>(a.allowedIps());
        a.endpoints().forEach(e -> expected.add(io.keymesh.schema.record.IpPrefix.host(e.address())));
        assertEquals(expected.stream().sorted(java.util.Comparator.comparing(Object::toString)).toList(), peer.allowedIps(),
                "its overlay addresses and its underlay (endpoint) addresses, for peers in host mode");
        assertEquals(0, peer.keepaliveSeconds());
    }

    @Test
    void aPeerBehindNatHasNoEndpointAndANodeBehindNatKeepsPathsOpen() {
        Map<?, PeerConfig> fromOutside = DesiredPeers.of(List.of(self, withoutEndpoint(a)), self, 25);
        PeerConfig natPeer = fromOutside.get(a.wgPublicKey());
        assertNull(natPeer.endpoint());
        assertEquals(0, natPeer.keepaliveSeconds(), "the node behind NAT keeps the path open, not us");

        Map<?, PeerConfig> fromBehindNat = DesiredPeers.of(List.of(withoutEndpoint(self), a, b), withoutEndpoint(self), 25);
        assertEquals(List.of(25, 25), fromBehindNat.values().stream().map(PeerConfig::keepaliveSeconds).toList());
    }

    @Test
    void beforeItIsAdmittedANodeWantsEveryActiveNode() {
        assertEquals(3, DesiredPeers.of(List.of(self, a, b), null, 25).size());
    }

    @Test
    void anUnderlayAddressTwoPeersAdvertiseIsNeitherOnesAllowedIp() {
        NodeRecord twin = new NodeRecord(b.mesh(), b.node(), b.epoch(), b.epoch(), b.state(), b.identityKey(), b.wgPublicKey(),
                a.endpoints(), b.addresses(), b.allowedIps(), b.keyIssuedAt(), b.issuedAt(), null);
        var peers = DesiredPeers.of(List.of(self, a, twin), self, 25);
        assertEquals(a.allowedIps(), peers.get(a.wgPublicKey()).allowedIps(), "behind one NAT address: WireGuard could give it to one only");
        assertEquals(b.allowedIps(), peers.get(b.wgPublicKey()).allowedIps());
        assertEquals(java.util.Set.of(a.endpoints().get(0).address()), UnderlayClaims.contested(List.of(self, a, twin), self));
    }
}
