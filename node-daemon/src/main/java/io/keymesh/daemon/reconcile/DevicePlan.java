package io.keymesh.daemon.reconcile;

import io.keymesh.daemon.link.LinkAddress;
import io.keymesh.daemon.link.LinkSpec;
import io.keymesh.daemon.wireguard.DesiredPeers;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.UnderlayClaims;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.function.Function;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the device should be for one verified snapshot. Pure. A member wants its peers and its
 * interface. A host whose own verified record says it was revoked wants no peers. A host with no
 * verified record of its own (not admitted yet, or, more likely on a running host, a wrong
 * {@code --trust-key}, {@code --mesh}, {@code --prefix} or node name) leaves the device exactly as
 * it is: a configuration mistake must never empty a working interface.
 *
 * @param link       the interface to ensure, or null to leave it as it is
 * @param listenPort the UDP port to listen on (meaningful with a link)
 * @param peers      the desired peers as planned afresh (an {@link Advance} changes the caller's copy, not these)
 * @param claims     which peers advertise each underlay address: a contested one joins no peer's allowed IPs
 */
public record DevicePlan(Standing standing, LinkSpec link, int listenPort, int natKeepaliveSeconds, Map<WireGuardPublicKey, PeerConfig> peers,
                         UnderlayClaims claims) {
    public DevicePlan {
        peers = java.util.Collections.unmodifiableMap(peers);
        java.util.Objects.requireNonNull(claims, "claims");
    }

    /** Where this host stands in the verified mesh. */
    public enum Standing {
        MEMBER,
        REVOKED,
        /** No verified record of this very host: the device is left alone. */
        OUTSIDER
    }

    public boolean member() {
        return standing == Standing.MEMBER;
    }

    /**
     * What changed from one snapshot to the next: the peers whose desired configuration changed
     * ({@code scope}: those of the changed records, and those whose underlay address became or
     * stopped being contested), their new configuration ({@code changes}; a key mapped to null is
     * no longer wanted), and the plan to advance from next time ({@code plan}: the claims updated,
     * the rest as before).
     */
    public record Advance(DevicePlan plan, Map<WireGuardPublicKey, PeerConfig> changes, Set<WireGuardPublicKey> scope) {
        /** Brings {@code desired} (the previous plan's peers, owned by the caller) up to date, in place. */
        public void applyTo(Map<WireGuardPublicKey, PeerConfig> desired) {
            changes.forEach((key, config) -> {
                if (config == null) {
                    desired.remove(key);
                } else {
                    desired.put(key, config);
                }
            });
        }
    }

    /**
     * The plan for {@code next} from this plan for {@code previous}, looking only at the records
     * that changed ({@link MeshSnapshot#changedSince}: unchanged records are the same objects from
     * one snapshot to the next, and the maps share them) and at the peers whose underlay address
     * they made contested or uncontested ({@link UnderlayClaims#flippedBetween}), so its cost does
     * not grow with the mesh, whether or not hosts share an address. Null when this host's own
     * record or the mesh config changed, which can change every peer, and when a changed record
     * advertises an address that a peer outside the change holds on the device for another
     * reason (as an overlay address, or a peer set by hand): planning afresh settles that.
     *
     * @param holder which peer holds an allowed IP on the device now
     */
    public Advance advance(MeshSnapshot previous, MeshSnapshot next, Identity self, Function<IpPrefix, WireGuardPublicKey> holder) {
        NodeRecord own = next.records().get(self.node());
        if (standing != Standing.MEMBER || previous.config() != next.config() || previous.records().get(self.node()) != own) {
            return null;
        }
        Map<WireGuardPublicKey, PeerConfig> changes = new HashMap<>();
        Set<String> changedNodes = new HashSet<>();
        Set<InetAddress> touched = new HashSet<>();
        UnderlayClaims[] nextClaims = {claims};
        next.changedSince(previous, (node, before, record) -> {
            changedNodes.add(node);
            if (before != null) {
                changes.putIfAbsent(before.wgPublicKey(), null);
                touched.addAll(claims.claimedBy(before));
            }
            if (record != null) {
                touched.addAll(claims.claimedBy(record));
            }
            nextClaims[0] = nextClaims[0].replace(before, record);
        });
        UnderlayClaims after = nextClaims[0];
        Set<String> replan = claims.flippedBetween(after, touched);
        replan.addAll(changedNodes);
        for (String node : replan) {
            NodeRecord record = next.records().get(node);
            PeerConfig peer = record == null ? null : DesiredPeers.peerFor(record, own, natKeepaliveSeconds, after::isContested);
            if (peer != null) {
                changes.put(peer.publicKey(), peer);
            } else if (record != null) {
                changes.putIfAbsent(record.wgPublicKey(), null);
            }
        }
        for (InetAddress address : touched) {
            WireGuardPublicKey held = holder.apply(IpPrefix.host(address));
            if (held != null && !changes.containsKey(held)) {
                return null;
            }
        }
        return new Advance(new DevicePlan(standing, link, listenPort, natKeepaliveSeconds, peers, after), changes,
                new HashSet<>(changes.keySet()));
    }

    public static DevicePlan of(MeshSnapshot mesh, Identity self, String interfaceName, DeviceOverrides overrides) {
        NodeRecord own = mesh.records().get(self.node());
        MeshConfig config = mesh.config();
        int listenPort = first(overrides.listenPort(), config == null ? null : config.listenPort(), DeviceOverrides.DEFAULT_LISTEN_PORT);
        if (!self.isAdmittedBy(own)) {
            Standing standing = self.isRevokedBy(own) ? Standing.REVOKED : Standing.OUTSIDER;
            return new DevicePlan(standing, null, listenPort, 0, Map.of(), UnderlayClaims.none());
        }
        int keepalive = first(overrides.natKeepaliveSeconds(), config == null ? null : config.keepaliveSeconds(),
                DeviceOverrides.DEFAULT_NAT_KEEPALIVE_SECONDS);
        Integer mtu = overrides.mtu() != null ? overrides.mtu() : config == null ? null : config.mtu();
        List<LinkAddress> addresses = own.addresses().stream().map(a -> withOverlayLength(a, config)).toList();
        UnderlayClaims claims = UnderlayClaims.of(mesh.records().values(), own);
        return new DevicePlan(Standing.MEMBER, new LinkSpec(interfaceName, addresses, mtu), listenPort, keepalive,
                DesiredPeers.of(mesh.records().values(), own, keepalive, claims::isContested), claims);
    }

    /** 198.18.0.5/32 in overlay 198.18.0.0/16 becomes 198.18.0.5/16: one connected route covers the overlay. */
    static LinkAddress withOverlayLength(IpPrefix address, MeshConfig config) {
        if (config != null) {
            for (IpPrefix overlay : config.overlayCidrs()) {
                if (overlay.isIpv4() == address.isIpv4() && overlay.contains(address.address())) {
                    return new LinkAddress(address.address(), overlay.length());
                }
            }
        }
        return new LinkAddress(address.address(), address.length());
    }

    private static int first(Integer a, Integer b, int fallback) {
        return a != null ? a : b != null ? b : fallback;
    }
}
