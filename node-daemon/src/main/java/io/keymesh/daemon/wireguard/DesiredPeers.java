package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The peers a node wants: every active node of the mesh but itself. Each peer's allowed IPs are
 * its overlay addresses and the addresses of the endpoints it advertises (its underlay
 * addresses): a peer in host mode sends its host traffic through the tunnel from those, and
 * accepting them costs nothing while no route sends anything there (see {@code HostMode}), so
 * each host can switch host mode on by itself. A node that advertises no
 * endpoint sits behind NAT: its peers configure it without one (WireGuard learns where it is
 * when it speaks), and it keeps that path open with a persistent keepalive toward every peer.
 * Pure.
 */
public final class DesiredPeers {
    private DesiredPeers() {
    }

    /**
     * @param self             this node's own record, or null before it is admitted
     * @param natKeepaliveSeconds keepalive this node sends when it is behind NAT (default 25)
     */
    public static Map<WireGuardPublicKey, PeerConfig> of(Collection<NodeRecord> verified, NodeRecord self, int natKeepaliveSeconds) {
        return of(verified, self, natKeepaliveSeconds, UnderlayClaims.contested(verified, self)::contains);
    }

    /**
     * As {@link #of(Collection, NodeRecord, int)}, with the contested underlay addresses already
     * known ({@link UnderlayClaims}): they join no peer's allowed IPs.
     */
    public static Map<WireGuardPublicKey, PeerConfig> of(Collection<NodeRecord> verified, NodeRecord self, int natKeepaliveSeconds,
                                                         Predicate<InetAddress> contested) {
        Map<WireGuardPublicKey, PeerConfig> peers = new LinkedHashMap<>();
        for (NodeRecord record : verified) {
            PeerConfig peer = peerFor(record, self, natKeepaliveSeconds, contested);
            if (peer != null) {
                peers.put(peer.publicKey(), peer);
            }
        }
        return peers;
    }

    /** The peer one record asks for, or null (inactive, or this node itself); contested underlay addresses are left out. */
    public static PeerConfig peerFor(NodeRecord record, NodeRecord self, int natKeepaliveSeconds, Predicate<InetAddress> contested) {
        if (!record.isActive() || (self != null && record.node().equals(self.node()))) {
            return null;
        }
        boolean behindNat = self != null && self.endpoints().isEmpty();
        List<IpPrefix> allowed = new ArrayList<>(record.allowedIps());
        record.endpoints().stream().map(Endpoint::address).distinct().filter(a -> !contested.test(a))
                .forEach(a -> allowed.add(IpPrefix.host(a)));
        return new PeerConfig(record.wgPublicKey(), record.endpoints().isEmpty() ? null : record.endpoints().get(0),
                behindNat ? natKeepaliveSeconds : 0, allowed);
    }
}
