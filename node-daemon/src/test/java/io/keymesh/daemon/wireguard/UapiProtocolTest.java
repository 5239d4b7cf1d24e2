package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class UapiProtocolTest {
    private final WireGuardPublicKey a = WireGuardPrivateKey.generate().publicKey();
    private final WireGuardPublicKey b = WireGuardPrivateKey.generate().publicKey();

    @Test
    void aDeltaSetsEachPeerAndRemovesByKeyWithoutEverReplacingAll() {
        PeerConfig add = new PeerConfig(a, Endpoint.parse("[2001:db8::1]:51820"), 25,
                List.of(IpPrefix.parse("198.18.0.1/32"), IpPrefix.parse("2001:db8:ff::1/128")));
        PeerConfig natPeer = new PeerConfig(b, null, 0, List.of(IpPrefix.parse("198.18.0.2/32")));
        WireGuardPublicKey gone = WireGuardPrivateKey.generate().publicKey();
        String text = UapiProtocol.setPeers(new PeerDelta(List.of(add), List.of(natPeer), List.of(gone)));
        assertEquals("set=1\n"
                + "public_key=" + a.hex() + "\nendpoint=[2001:db8::1]:51820\npersistent_keepalive_interval=25\n"
                + "replace_allowed_ips=true\nallowed_ip=198.18.0.1/32\nallowed_ip=2001:db8:ff::1/128\n"
                + "public_key=" + b.hex() + "\npersistent_keepalive_interval=0\nreplace_allowed_ips=true\nallowed_ip=198.18.0.2/32\n"
                + "public_key=" + gone.hex() + "\nremove=true\n\n", text);
        assertFalse(text.contains("replace_peers"));
        assertEquals("set=1\nfwmark=268435456\n\n", UapiProtocol.setFirewallMark(0x10000000L));
    }

    @Test
    void aGetReplyParsesWithoutKeepingThePrivateKey() {
        WireGuardPrivateKey device = WireGuardPrivateKey.generate();
        String reply = "private_key=" + device.toHexSecret() + "\nlisten_port=51820\nfwmark=268435456\n"
                + "public_key=" + a.hex() + "\npreshared_key=" + "0".repeat(64) + "\nprotocol_version=1\n"
                + "endpoint=192.0.2.7:51820\nlast_handshake_time_sec=1795235400\nlast_handshake_time_nsec=5\n"
                + "tx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=0\nallowed_ip=198.18.0.7/32\n"
                + "public_key=" + b.hex() + "\nlast_handshake_time_sec=0\npersistent_keepalive_interval=25\n"
                + "allowed_ip=203.0.113.5/24\nerrno=0\n\n";
        DeviceState state = UapiProtocol.parseGet(reply);
        assertEquals(device.publicKey(), state.publicKey());
        assertEquals(51820, state.listenPort());
        assertEquals(0x10000000L, state.firewallMark());
        PeerStatus first = state.peers().get(a);
        assertEquals(Endpoint.parse("192.0.2.7:51820"), first.config().endpoint());
        assertEquals(Instant.ofEpochSecond(1795235400), first.lastHandshake());
        assertEquals(20, first.rxBytes());
        PeerStatus second = state.peers().get(b);
        assertNull(second.config().endpoint());
        assertNull(second.lastHandshake());
        assertEquals(List.of(IpPrefix.parse("203.0.113.0/24")), second.config().allowedIps(), "host bits set by hand are masked");
        assertFalse(state.toString().contains(device.toHexSecret()));
    }

    @Test
    void aFailedOrMalformedReplyIsAnError() {
        assertEquals(22, UapiProtocol.errno("errno=22\n\n"));
        assertThrows(IllegalArgumentException.class, () -> UapiProtocol.parseGet("errno=2\n\n"));
        assertThrows(IllegalArgumentException.class, () -> UapiProtocol.parseGet("listen_port=1\n\n"));
        assertTrue(UapiProtocol.parseGet("errno=0\n\n").peers().isEmpty());
    }
}
