package io.keymesh.daemon.wireguard;

import io.keymesh.daemon.collect.PersistentMap;
import io.keymesh.daemon.collect.PersistentSet;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.NodeRecord;
import java.net.InetAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Which active peers advertise each underlay address (the addresses of the endpoints in their
 * signed records), this host left out. An address more than one peer claims is contested
 * (several hosts behind one NAT address with forwarded ports, or a node claiming another's
 * address): WireGuard gives an allowed IP to one peer only, so a contested address is nobody's.
 *
 * <p>Immutable, sharing structure with the claims it was made from ({@link PersistentMap}), so a
 * changed record costs O(its endpoints × log32 n) whether the address it advertises is its own or
 * shared by ten thousand hosts; {@link #flippedBetween} names the peers whose allowed IPs another
 * record's change altered. Pure.
 */
public final class UnderlayClaims {
    private static final UnderlayClaims NONE = new UnderlayClaims(null, PersistentMap.empty());

    /** This host's node name (its own record claims nothing), or null before it is admitted. */
    private final String self;
    private final PersistentMap<InetAddress, PersistentSet<String>> claimants;

    private UnderlayClaims(String self, PersistentMap<InetAddress, PersistentSet<String>> claimants) {
        this.self = self;
        this.claimants = claimants;
    }

    /** No claims: for a host that has no peers. */
    public static UnderlayClaims none() {
        return NONE;
    }

    /** The claims of {@code records}; {@code self} (this host's record, or null) claims nothing. */
    public static UnderlayClaims of(Collection<NodeRecord> records, NodeRecord self) {
        UnderlayClaims claims = new UnderlayClaims(self == null ? null : self.node(), PersistentMap.empty());
        for (NodeRecord record : records) {
            claims = claims.replace(null, record);
        }
        return claims;
    }

    /** True when more than one peer advertises {@code address}. */
    public boolean isContested(InetAddress address) {
        PersistentSet<String> nodes = claimants.get(address);
        return nodes != null && nodes.size() > 1;
    }

    /** True when at least one peer advertises {@code address}. */
    public boolean isClaimed(InetAddress address) {
        return claimants.containsKey(address);
    }

    /** Every contested address. Walks every address: for full plans, not per change. */
    public Set<InetAddress> contested() {
        Set<InetAddress> contested = new HashSet<>();
        claimants.forEach((address, nodes) -> {
            if (nodes.size() > 1) {
                contested.add(address);
            }
        });
        return contested;
    }

    /** Every claimed address. Walks every address: for full plans, not per change. */
    public Set<InetAddress> claimed() {
        return Set.copyOf(claimants.keySet());
    }

    /** These claims with {@code before} (a record of the node, or null) replaced by {@code after} (or null when gone). */
    public UnderlayClaims replace(NodeRecord before, NodeRecord after) {
        PersistentMap<InetAddress, PersistentSet<String>> next = claimants;
        if (claims(before)) {
            for (InetAddress address : addresses(before)) {
                PersistentSet<String> nodes = next.get(address);
                if (nodes != null) {
                    PersistentSet<String> rest = nodes.without(before.node());
                    next = rest.isEmpty() ? next.without(address) : next.with(address, rest);
                }
            }
        }
        if (claims(after)) {
            for (InetAddress address : addresses(after)) {
                PersistentSet<String> nodes = next.get(address);
                next = next.with(address, (nodes == null ? PersistentSet.<String>empty() : nodes).with(after.node()));
            }
        }
        return next == claimants ? this : new UnderlayClaims(self, next);
    }

    /**
     * The peers whose allowed IPs change because an address in {@code touched} became contested
     * or stopped being contested between these claims and {@code later}: every peer claiming it in
     * {@code later}. Costs what {@code touched} holds, plus the claimants of the addresses that
     * flipped (at most one when an address stops being contested; when one becomes contested, the
     * peers that made it so and at most one other).
     */
    public Set<String> flippedBetween(UnderlayClaims later, Set<InetAddress> touched) {
        Set<String> flipped = new HashSet<>();
        for (InetAddress address : touched) {
            if (isContested(address) != later.isContested(address)) {
                PersistentSet<String> nodes = later.claimants.get(address);
                if (nodes != null) {
                    flipped.addAll(nodes);
                }
            }
        }
        return flipped;
    }

    /** The addresses {@code record} claims here: those it advertises when it is active and not this host's; else none. */
    public Set<InetAddress> claimedBy(NodeRecord record) {
        return claims(record) ? addresses(record) : Set.of();
    }

    private static Set<InetAddress> addresses(NodeRecord record) {
        Set<InetAddress> addresses = new HashSet<>();
        for (Endpoint endpoint : record.endpoints()) {
            addresses.add(endpoint.address());
        }
        return addresses;
    }

    private boolean claims(NodeRecord record) {
        return record != null && record.isActive() && !record.node().equals(self);
    }
}
