package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PeerTableTest {
    private static final WireGuardPublicKey A = WireGuardPrivateKey.generate().publicKey();
    private static final WireGuardPublicKey B = WireGuardPrivateKey.generate().publicKey();
    private static final WireGuardPublicKey C = WireGuardPrivateKey.generate().publicKey();

    private static PeerConfig peer(WireGuardPublicKey key, String... ips) {
        return new PeerConfig(key, null, 0, Arrays.stream(ips).map(IpPrefix::parse).toList());
    }

    private static List<IpPrefix> ips(PeerTable table, WireGuardPublicKey key) {
        return table.peers().get(key).allowedIps();
    }

    @Test
    void anAllowedIpHasOneHolderAndMovesOnlyWhenAnotherPeerTakesIt() {
        PeerTable table = new PeerTable();
        table.apply(new PeerDelta(List.of(peer(A, "198.18.0.1/32", "198.18.0.2/32"), peer(C, "198.18.0.9/32")), List.of(), List.of()));

        // B takes .2 from A: A keeps only .1.
        table.apply(new PeerDelta(List.of(peer(B, "198.18.0.2/32")), List.of(), List.of()));
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), ips(table, A));
        assertEquals(List.of(IpPrefix.parse("198.18.0.2/32")), ips(table, B));

        // B drops .2 for .3; C then takes .2, which nobody holds, and .3 from B.
        table.apply(new PeerDelta(List.of(), List.of(peer(B, "198.18.0.3/32")), List.of()));
        table.apply(new PeerDelta(List.of(), List.of(peer(C, "198.18.0.2/32", "198.18.0.3/32", "198.18.0.9/32")), List.of()));
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), ips(table, A));
        assertEquals(List.of(), ips(table, B));
        assertEquals(3, ips(table, C).size());

        // Removing C frees its IPs: A can take .3 back without touching anyone.
        table.apply(new PeerDelta(List.of(), List.of(), List.of(C)));
        table.apply(new PeerDelta(List.of(), List.of(peer(A, "198.18.0.1/32", "198.18.0.3/32")), List.of()));
        assertEquals(2, ips(table, A).size());
        assertEquals(List.of(), ips(table, B));
        assertEquals(2, table.peers().size());
    }
}
