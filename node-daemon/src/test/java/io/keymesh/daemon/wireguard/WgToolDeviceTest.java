package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class WgToolDeviceTest {
    @Test
    void theDumpIsParsedAndThePrivateKeyIsNotKept() {
        WireGuardPrivateKey own = WireGuardPrivateKey.generate();
        WireGuardPublicKey a = WireGuardPrivateKey.generate().publicKey();
        WireGuardPublicKey b = WireGuardPrivateKey.generate().publicKey();
        String dump = own.toBase64Secret() + "\t" + own.publicKey().base64() + "\t51820\toff\n"
                + a.base64() + "\t(none)\t192.0.2.1:51820\t198.18.0.1/32,2001:db8::1/128\t1763700000\t100\t200\t25\n"
                + b.base64() + "\t(none)\t(none)\t(none)\t0\t0\t0\toff\n";

        DeviceState state = WgToolDevice.parseDump(dump);

        assertEquals(own.publicKey(), state.publicKey());
        assertEquals(51820, state.listenPort());
        assertEquals(0, state.firewallMark());
        assertEquals(0x10000000L, WgToolDevice.parseDump(dump.replaceFirst("\toff\n", "\t0x10000000\n")).firewallMark());
        PeerStatus pa = state.peers().get(a);
        assertEquals(Endpoint.parse("192.0.2.1:51820"), pa.config().endpoint());
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32"), IpPrefix.parse("2001:db8::1/128")), pa.config().allowedIps());
        assertEquals(Instant.ofEpochSecond(1763700000), pa.lastHandshake());
        assertEquals(25, pa.config().keepaliveSeconds());
        PeerStatus pb = state.peers().get(b);
        assertNull(pb.config().endpoint());
        assertEquals(List.of(), pb.config().allowedIps());
        assertNull(pb.lastHandshake());
        assertFalse(state.toString().contains(own.toBase64Secret()), "no private key in the parsed state");
    }

    @Test
    void aSetNamesThePeerItsEndpointKeepaliveAndExactlyItsAllowedIps() {
        WireGuardPublicKey a = WireGuardPrivateKey.generate().publicKey();
        assertEquals(List.of("peer", a.base64(), "endpoint", "192.0.2.1:51820", "persistent-keepalive", "off", "allowed-ips", "198.18.0.1/32"),
                WgToolDevice.setArgs(new PeerConfig(a, Endpoint.parse("192.0.2.1:51820"), 0, List.of(IpPrefix.parse("198.18.0.1/32")))));
        assertEquals(List.of("peer", a.base64(), "persistent-keepalive", "25", "allowed-ips", ""),
                WgToolDevice.setArgs(new PeerConfig(a, null, 25, List.of())));
    }
}
