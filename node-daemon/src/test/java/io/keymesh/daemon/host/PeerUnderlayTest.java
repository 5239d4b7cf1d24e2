package io.keymesh.daemon.host;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.testing.Samples;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerUnderlayTest {
    private static NodeRecord at(NodeRecord r, NodeState state, String... endpoints) {
        return new NodeRecord(r.mesh(), r.node(), r.epoch(), r.epoch(), state, r.identityKey(), r.wgPublicKey(),
                List.of(endpoints).stream().map(Endpoint::parse).toList(), r.addresses(), r.allowedIps(), r.keyIssuedAt(), r.issuedAt(), null);
    }

    @Test
    void anAddressOnlyOneActivePeerAdvertisesIsRoutedOneClaimedTwiceOrByThisHostIsNot() {
        NodeRecord self = at(Samples.nodeRecord("self", 1, 1), NodeState.ACTIVE, "192.0.2.1:51820");
        NodeRecord a = at(Samples.nodeRecord("a", 1, 2), NodeState.ACTIVE, "192.0.2.2:51820", "[2001:db8::2]:51820");
        NodeRecord b = at(Samples.nodeRecord("b", 1, 3), NodeState.ACTIVE, "192.0.2.3:51820");
        NodeRecord c = at(Samples.nodeRecord("c", 1, 4), NodeState.ACTIVE, "192.0.2.3:51821");
        NodeRecord d = at(Samples.nodeRecord("d", 1, 5), NodeState.ACTIVE, "192.0.2.1:51820");
        NodeRecord gone = at(Samples.nodeRecord("e", 1, 6), NodeState.REVOKED, "192.0.2.6:51820");
        PeerUnderlay underlay = PeerUnderlay.of(java.util.stream.Stream.of(self, a, b, c, d, gone).collect(java.util.stream.Collectors.toMap(NodeRecord::node, r -> r)), "self");
        assertEquals(Set.of(IpAddresses.parse("192.0.2.2"), IpAddresses.parse("2001:db8::2")), underlay.routable());
        assertEquals(Set.of(IpAddresses.parse("192.0.2.3"), IpAddresses.parse("192.0.2.1")), underlay.contested(),
                "two nodes behind one address, and a node claiming this host's own");
    }
}
