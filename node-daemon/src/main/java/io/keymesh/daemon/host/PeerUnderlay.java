package io.keymesh.daemon.host;

import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.NodeRecord;
import java.net.InetAddress;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The peers' underlay addresses: the addresses of the endpoints their signed records advertise.
 * Pure.
 *
 * @param routable addresses exactly one active peer claims (and this host does not): host mode
 *                 routes these into the tunnel
 * @param contested addresses more than one node claims: none of them gets the traffic, which stays
 *                 on the underlay, so a node advertising someone else's address cannot attract it
 */
public record PeerUnderlay(Set<InetAddress> routable, Set<InetAddress> contested) {
    public static final PeerUnderlay NONE = new PeerUnderlay(Set.of(), Set.of());

    /** Every peer underlay address, contested or not: what the interface MTU must fit. */
    public Set<InetAddress> all() {
        Set<InetAddress> all = new HashSet<>(routable);
        all.addAll(contested);
        return all;
    }

    public static PeerUnderlay of(Collection<NodeRecord> records, String self) {
        Map<InetAddress, Integer> claims = new HashMap<>();
        Set<InetAddress> own = new HashSet<>();
        for (NodeRecord record : records) {
            if (!record.isActive() && !record.node().equals(self)) {
                continue;
            }
            for (Endpoint endpoint : record.endpoints()) {
                if (record.node().equals(self)) {
                    own.add(endpoint.address());
                } else {
                    claims.merge(endpoint.address(), 1, Integer::sum);
                }
            }
        }
        Set<InetAddress> routable = new HashSet<>();
        Set<InetAddress> contested = new HashSet<>();
        claims.forEach((address, count) -> {
            if (count == 1 && !own.contains(address)) {
                routable.add(address);
            } else {
                contested.add(address);
            }
        });
        return new PeerUnderlay(Set.copyOf(routable), Set.copyOf(contested));
    }
}
