package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * WireGuard's cross-platform userspace API ({@code /var/run/wireguard/<if>.sock}), as text. Pure.
 * A set names each peer it touches and nothing else: {@code replace_peers} is never sent.
 */
public final class UapiProtocol {
    private UapiProtocol() {
    }

    public static String setDevice(WireGuardPrivateKey privateKey, int listenPort) {
        return "set=1\nprivate_key=" + privateKey.toHexSecret() + "\nlisten_port=" + listenPort + "\n\n";
    }

    public static String setFirewallMark(long mark) {
        return "set=1\nfwmark=" + mark + "\n\n";
    }

    public static String setPeers(PeerDelta delta) {
        StringBuilder out = new StringBuilder("set=1\n");
        List<PeerConfig> sets = new ArrayList<>(delta.adds());
        sets.addAll(delta.updates());
        for (PeerConfig peer : sets) {
            out.append("public_key=").append(peer.publicKey().hex()).append('\n');
            if (peer.endpoint() != null) {
                out.append("endpoint=").append(peer.endpoint()).append('\n');
            }
            out.append("persistent_keepalive_interval=").append(peer.keepaliveSeconds()).append('\n');
            // Replaces this peer's allowed IPs only, never another peer's configuration.
            out.append("replace_allowed_ips=true\n");
            peer.allowedIps().forEach(ip -> out.append("allowed_ip=").append(ip).append('\n'));
        }
        for (WireGuardPublicKey removed : delta.removals()) {
            out.append("public_key=").append(removed.hex()).append("\nremove=true\n");
        }
        return out.append('\n').toString();
    }

    public static final String GET = "get=1\n\n";

    /** The errno a response ends with; 0 is success. */
    public static int errno(String response) {
        for (String line : response.split("\n")) {
            if (line.startsWith("errno=")) {
                return Integer.parseInt(line.substring("errno=".length()).strip());
            }
        }
        throw new IllegalArgumentException("control socket reply has no errno line");
    }

    /** Parses a get reply. The private key line is read only to derive the public key, then dropped. */
    public static DeviceState parseGet(String response) {
        int errno = errno(response);
        if (errno != 0) {
            throw new IllegalArgumentException("control socket get failed with errno " + errno);
        }
        WireGuardPublicKey devicePublic = null;
        int listenPort = 0;
        long firewallMark = 0;
        Map<WireGuardPublicKey, PeerStatus> peers = new LinkedHashMap<>();
        PeerBuilder peer = null;
        for (String line : response.split("\n")) {
            int eq = line.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = line.substring(0, eq);
            String value = line.substring(eq + 1);
            switch (key) {
                case "private_key" -> {
                    if (!value.matches("0{64}")) {
                        devicePublic = WireGuardPrivateKey.fromHex(value).publicKey();
                    }
                }
                case "listen_port" -> listenPort = Integer.parseInt(value);
                case "fwmark" -> firewallMark = Long.parseLong(value);
                case "public_key" -> {
                    if (peer != null) {
                        peers.put(peer.key, peer.build());
                    }
                    peer = new PeerBuilder(WireGuardPublicKey.fromHex(value));
                }
                case "endpoint" -> peer(peer, line).endpoint = parseEndpoint(value);
                case "persistent_keepalive_interval" -> peer(peer, line).keepalive = Integer.parseInt(value);
                case "allowed_ip" -> peer(peer, line).allowedIps.add(parseMasked(value));
                case "last_handshake_time_sec" -> peer(peer, line).handshakeSeconds = Long.parseLong(value);
                case "rx_bytes" -> peer(peer, line).rx = Long.parseLong(value);
                case "tx_bytes" -> peer(peer, line).tx = Long.parseLong(value);
                default -> {
                    // protocol_version, preshared_key, errno, ...: not keymesh's business
                }
            }
        }
        if (peer != null) {
            peers.put(peer.key, peer.build());
        }
        return new DeviceState(devicePublic, listenPort, firewallMark, peers);
    }

    private static PeerBuilder peer(PeerBuilder peer, String line) {
        if (peer == null) {
            throw new IllegalArgumentException("control socket reply has '" + line.substring(0, line.indexOf('=')) + "' before any peer");
        }
        return peer;
    }

    static Endpoint parseEndpoint(String value) {
        try {
            return Endpoint.parse(value);
        } catch (IllegalArgumentException e) {
            return null; // an endpoint form keymesh does not write (set by hand): treated as none
        }
    }

    /** Allowed IPs as the device holds them; host bits someone set by hand are masked off. */
    static IpPrefix parseMasked(String value) {
        int slash = value.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("allowed IP '" + value + "' has no prefix length");
        }
        return IpPrefix.containing(io.keymesh.schema.record.IpAddresses.parse(value.substring(0, slash)),
                Integer.parseInt(value.substring(slash + 1)));
    }

    private static final class PeerBuilder {
        final WireGuardPublicKey key;
        Endpoint endpoint;
        int keepalive;
        final List<IpPrefix> allowedIps = new ArrayList<>();
        long handshakeSeconds;
        long rx;
        long tx;

        PeerBuilder(WireGuardPublicKey key) {
            this.key = key;
        }

        PeerStatus build() {
            return new PeerStatus(new PeerConfig(key, endpoint, keepalive, allowedIps),
                    handshakeSeconds == 0 ? null : Instant.ofEpochSecond(handshakeSeconds), rx, tx);
        }
    }
}
