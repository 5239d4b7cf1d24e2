package io.keymesh.daemon.host;

import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.NodeRecord;
import java.net.InetAddress;
import io.keymesh.daemon.wireguard.UnderlayClaims;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The peers' underlay addresses: the addresses of the endpoints their signed records advertise.
 * Pure.
 *
 * @param routable addresses exactly one active peer claims (and this host does not): host mode
 *                 routes these into the tunnel
 * @param contested addresses more than one node claims ({@link UnderlayClaims}), or a peer
 *                 claims this host's own: none of them gets the traffic, which stays on the
 *                 underlay, so a node advertising someone else's address cannot attract it
 */
public record PeerUnderlay(Set<InetAddress> routable, Set<InetAddress> contested) {
    public static final PeerUnderlay NONE = new PeerUnderlay(Set.of(), Set.of());

    /** Every peer underlay address, contested or not: what the interface MTU must fit. */
    public Set<InetAddress> all() {
        Set<InetAddress> all = new HashSet<>(routable);
        all.addAll(contested);
        return all;
    }

    public static PeerUnderlay of(Map<String, NodeRecord> records, String self) {
        NodeRecord own = records.get(self);
        Set<InetAddress> ownAddresses = new HashSet<>();
        if (own != null) {
            own.endpoints().forEach(e -> ownAddresses.add(e.address()));
        }
        Set<InetAddress> contested = UnderlayClaims.contested(records.values(), own);
        Set<InetAddress> routable = new HashSet<>();
        for (NodeRecord record : records.values()) {
            if (record.isActive() && !record.node().equals(self)) {
                for (Endpoint endpoint : record.endpoints()) {
                    (ownAddresses.contains(endpoint.address()) ? contested : routable).add(endpoint.address());
                }
            }
        }
        routable.removeAll(contested);
        return new PeerUnderlay(Set.copyOf(routable), Set.copyOf(contested));
    }
}
