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
    /**
     * The nodes claiming each address: the node's name when one does (by far the most common
     * case, and then the entry costs no more than the map's own leaf), a
     * {@code PersistentSet<String>} of two or more names when the address is contested.
     */
    private final PersistentMap<InetAddress, Object> claimants;

    private UnderlayClaims(String self, PersistentMap<InetAddress, Object> claimants) {
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

    /**
     * The contested addresses of {@code records} counted afresh, without building the index: what
     * planning from scratch needs (a full plan, host mode, the full-replace design of the
     * benchmarks), and the reference the index is tested against.
     */
    public static Set<InetAddress> contested(Collection<NodeRecord> records, NodeRecord self) {
        String selfNode = self == null ? null : self.node();
        java.util.Map<InetAddress, Boolean> seenTwice = new java.util.HashMap<>();
        for (NodeRecord record : records) {
            if (record.isActive() && !record.node().equals(selfNode)) {
                for (InetAddress address : addresses(record)) {
                    seenTwice.merge(address, false, (a, b) -> true);
                }
            }
        }
        Set<InetAddress> contested = new HashSet<>();
        seenTwice.forEach((address, twice) -> {
            if (twice) {
                contested.add(address);
            }
        });
        return contested;
    }

    /** True when more than one peer advertises {@code address}. */
    public boolean isContested(InetAddress address) {
        return claimants.get(address) instanceof PersistentSet<?>;
    }

    /** Every contested address in the index. Walks every address: for tests and full plans, not per change. */
    public Set<InetAddress> contested() {
        Set<InetAddress> contested = new HashSet<>();
        claimants.forEach((address, nodes) -> {
            if (nodes instanceof PersistentSet<?>) {
                contested.add(address);
            }
        });
        return contested;
    }

    /** These claims with {@code before} (a record of the node, or null) replaced by {@code after} (or null when gone). */
    public UnderlayClaims replace(NodeRecord before, NodeRecord after) {
        PersistentMap<InetAddress, Object> next = claimants;
        if (claims(before)) {
            for (InetAddress address : addresses(before)) {
                Object rest = without(next.get(address), before.node());
                next = rest == null ? next.without(address) : next.with(address, rest);
            }
        }
        if (claims(after)) {
            for (InetAddress address : addresses(after)) {
                next = next.with(address, with(next.get(address), after.node()));
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
                Object nodes = later.claimants.get(address);
                if (nodes instanceof String node) {
                    flipped.add(node);
                } else if (nodes instanceof PersistentSet<?> set) {
                    set.forEach(node -> flipped.add((String) node));
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

    /** {@code claimants} (a name, a set of names, or null) with {@code node} added. */
    private static Object with(Object claimants, String node) {
        if (claimants == null || claimants.equals(node)) {
            return node;
        }
        @SuppressWarnings("unchecked")
        PersistentSet<String> set = claimants instanceof PersistentSet<?> s ? (PersistentSet<String>) s
                : PersistentSet.<String>empty().with((String) claimants);
        return set.with(node);
    }

    /** {@code claimants} (a name, a set of names, or null) without {@code node}: null when none is left, a name when one is. */
    private static Object without(Object claimants, String node) {
        if (claimants == null || claimants.equals(node)) {
            return null;
        }
        if (claimants instanceof PersistentSet<?> set) {
            @SuppressWarnings("unchecked")
            PersistentSet<String> rest = ((PersistentSet<String>) set).without(node);
            return rest.size() == 1 ? rest.iterator().next() : rest;
        }
        return claimants;
    }

    private boolean claims(NodeRecord record) {
        return record != null && record.isActive() && !record.node().equals(self);
    }
}
