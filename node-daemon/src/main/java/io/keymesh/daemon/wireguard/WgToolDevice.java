package io.keymesh.daemon.wireguard;

import io.keymesh.daemon.exec.Exec;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A WireGuard device through the {@code wg} tool, which works with the kernel module and with
 * any userspace implementation. Peers change by {@code wg set ... peer ...}, per-peer sections
 * (up to 256 in one call), never {@code setconf}; the private key goes in on standard input ({@code private-key /dev/stdin}),
 * never on the command line.
 */
public final class WgToolDevice implements WireGuardDevice {
    /** Peers per {@code wg set} call, so a large delta stays far below the kernel's argument limit. */
    private static final int PEERS_PER_CALL = 256;

    private final String interfaceName;

    public WgToolDevice(String interfaceName) {
        this.interfaceName = interfaceName;
    }

    @Override
    public DeviceState read() throws IOException {
        return parseDump(Exec.check("wg", "show", interfaceName, "dump"));
    }

    @Override
    public void apply(PeerDelta delta) throws IOException {
        List<List<String>> peerArgs = new ArrayList<>();
        for (PeerConfig peer : delta.adds()) {
            peerArgs.add(setArgs(peer));
        }
        for (PeerConfig peer : delta.updates()) {
            peerArgs.add(setArgs(peer));
        }
        for (WireGuardPublicKey key : delta.removals()) {
            peerArgs.add(List.of("peer", key.base64(), "remove"));
        }
        for (int from = 0; from < peerArgs.size(); from += PEERS_PER_CALL) {
            List<String> command = new ArrayList<>(List.of("wg", "set", interfaceName));
            peerArgs.subList(from, Math.min(peerArgs.size(), from + PEERS_PER_CALL)).forEach(command::addAll);
            Exec.check(command, null);
        }
    }

    static List<String> setArgs(PeerConfig peer) {
        List<String> args = new ArrayList<>(List.of("peer", peer.publicKey().base64()));
        if (peer.endpoint() != null) {
            args.addAll(List.of("endpoint", peer.endpoint().toString()));
        }
        args.addAll(List.of("persistent-keepalive", peer.keepaliveSeconds() == 0 ? "off" : Integer.toString(peer.keepaliveSeconds())));
        // "allowed-ips" replaces the peer's whole set, as the control socket's replace_allowed_ips does.
        args.addAll(List.of("allowed-ips", peer.allowedIps().stream().map(IpPrefix::toString).collect(Collectors.joining(","))));
        return args;
    }

    @Override
    public void configure(WireGuardPrivateKey privateKey, int listenPort) throws IOException {
        Exec.check(List.of("wg", "set", interfaceName, "listen-port", Integer.toString(listenPort), "private-key", "/dev/stdin"),
                (privateKey.toBase64Secret() + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void setFirewallMark(long mark) throws IOException {
        Exec.check("wg", "set", interfaceName, "fwmark", mark == 0 ? "off" : "0x" + Long.toHexString(mark));
    }

    /**
     * Parses {@code wg show <if> dump}: the device line (private key, public key, port, fwmark),
     * then one line per peer (key, preshared key, endpoint, allowed IPs, latest handshake, rx, tx,
     * keepalive), tab-separated. The private key is read past, never kept.
     */
    static DeviceState parseDump(String dump) {
        String[] lines = dump.split("\n");
        if (lines.length == 0 || lines[0].isBlank()) {
            throw new IllegalArgumentException("wg show dump printed nothing");
        }
        String[] device = lines[0].split("\t");
        if (device.length < 4) {
            throw new IllegalArgumentException("wg show dump: unexpected device line with " + device.length + " fields");
        }
        WireGuardPublicKey own = "(none)".equals(device[1]) ? null : WireGuardPublicKey.parse(device[1]);
        int port = Integer.parseInt(device[2]);
        long mark = "off".equals(device[3]) ? 0 : Long.decode(device[3]);
        Map<WireGuardPublicKey, PeerStatus> peers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isBlank()) {
                continue;
            }
            String[] f = lines[i].split("\t");
            if (f.length < 8) {
                throw new IllegalArgumentException("wg show dump: unexpected peer line with " + f.length + " fields");
            }
            WireGuardPublicKey key = WireGuardPublicKey.parse(f[0]);
            List<IpPrefix> allowed = "(none)".equals(f[3]) || f[3].isEmpty() ? List.of()
                    : java.util.Arrays.stream(f[3].split(",")).map(UapiProtocol::parseMasked).toList();
            long handshake = Long.parseLong(f[4]);
            int keepalive = "off".equals(f[7]) ? 0 : Integer.parseInt(f[7]);
            PeerConfig config = new PeerConfig(key, "(none)".equals(f[2]) ? null : UapiProtocol.parseEndpoint(f[2]), keepalive, allowed);
            peers.put(key, new PeerStatus(config, handshake == 0 ? null : Instant.ofEpochSecond(handshake),
                    Long.parseLong(f[5]), Long.parseLong(f[6])));
        }
        return new DeviceState(own, port, mark, peers);
    }
}
