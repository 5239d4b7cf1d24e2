package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Both real backends, the control socket spoken from Java and the wg tool, against a real
 * wireguard-go interface in a network namespace, each checked with the real wg.
 */
class WireGuardDeviceIT {

    private static Map<WireGuardPublicKey, PeerConfig> peers(PeerConfig... configs) {
        Map<WireGuardPublicKey, PeerConfig> map = new LinkedHashMap<>();
        for (PeerConfig c : configs) {
            map.put(c.publicKey(), c);
        }
        return map;
    }

    private static PeerConfig peer(WireGuardPublicKey key, String endpoint, int keepalive, String... ips) {
        return new PeerConfig(key, endpoint == null ? null : Endpoint.parse(endpoint), keepalive,
                java.util.Arrays.stream(ips).map(IpPrefix::parse).toList());
    }

    private static WireGuardDevice backend(String name, String iface) {
        return "uapi".equals(name) ? new UapiDevice(iface) : new WgToolDevice(iface);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"uapi", "wg"})
    void peersAreAddedUpdatedRotatedAndRemovedOneByOneAndAHandAddedPeerSurvives(String backendName) throws Exception {
        String iface;
        String namespace;
        try (WireGuardGoHost host = WireGuardGoHost.start()) {
            iface = host.iface;
            namespace = host.namespace;
            WireGuardDevice device = backend(backendName, host.iface);
            WireGuardPrivateKey own = WireGuardPrivateKey.generate();
            device.configure(own, 51820);
            DeviceState configured = device.read();
            assertEquals(own.publicKey(), configured.publicKey());
            assertEquals(51820, configured.listenPort());
            assertEquals(own.publicKey().base64(), host.wgDump().get(0)[1], "wg sees the same public key");

            WireGuardPublicKey a = WireGuardPrivateKey.generate().publicKey();
            WireGuardPublicKey b = WireGuardPrivateKey.generate().publicKey();
            WireGuardPublicKey c = WireGuardPrivateKey.generate().publicKey();
            var desired = peers(peer(a, "192.0.2.1:51820", 0, "198.18.0.1/32"),
                    peer(b, "[2001:db8::2]:51820", 25, "198.18.0.2/32", "2001:db8:ff::2/128"),
                    peer(c, null, 0, "198.18.0.3/32"));
            Set<WireGuardPublicKey> owned = new HashSet<>(desired.keySet());
            device.apply(PeerDiff.compute(desired, device.read().configs(), owned));
            assertTrue(PeerDiff.compute(desired, device.read().configs(), owned).isEmpty(), "read back as desired");
            assertEquals(4, host.wgDump().size(), "wg lists the three peers");

            // Someone adds a peer by hand; keymesh must leave it alone.
            WireGuardPublicKey manual = WireGuardPrivateKey.generate().publicKey();
            host.wg("set", host.iface, "peer", manual.base64(), "allowed-ips", "203.0.113.0/24");

            // Update one, rotate one (new key, same address), remove one.
            WireGuardPublicKey aNext = WireGuardPrivateKey.generate().publicKey();
            var next = peers(peer(aNext, "192.0.2.1:51820", 0, "198.18.0.1/32"),
                    peer(b, "[2001:db8::2]:51820", 25, "198.18.0.2/32"));
            PeerDelta delta = PeerDiff.compute(next, device.read().configs(), owned);
            assertEquals(List.of(next.get(aNext)), delta.adds());
            assertEquals(List.of(next.get(b)), delta.updates());
            assertEquals(Set.of(a, c), new HashSet<>(delta.removals()));
            device.apply(delta);

            DeviceState after = device.read();
            assertTrue(PeerDiff.compute(next, after.configs(), owned).isEmpty());
            assertEquals(Set.of(aNext, b, manual), after.peers().keySet());
            assertEquals(List.of(IpPrefix.parse("203.0.113.0/24")), after.peers().get(manual).config().allowedIps());
            assertEquals(own.publicKey(), after.publicKey(), "the interface was never replaced");
        }
        assertFalse(Files.exists(UapiDevice.SOCKET_DIRECTORY.resolve(iface + ".sock")), "socket left behind");
        assertFalse(WireGuardGoHost.run("ip", "netns", "list").contains(namespace), "namespace left behind");
    }
}
