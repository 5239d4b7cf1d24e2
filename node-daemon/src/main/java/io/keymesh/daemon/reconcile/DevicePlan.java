package io.keymesh.daemon.reconcile;

import io.keymesh.daemon.link.LinkAddress;
import io.keymesh.daemon.link.LinkSpec;
import io.keymesh.daemon.wireguard.DesiredPeers;
import io.keymesh.daemon.wireguard.PeerConfig;
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
 * @param contested  underlay addresses several peers advertise, which no peer gets ({@link DesiredPeers#contested})
 */
public record DevicePlan(Standing standing, LinkSpec link, int listenPort, int natKeepaliveSeconds, Map<WireGuardPublicKey, PeerConfig> peers,
                         Set<InetAddress> contested) {
    public DevicePlan {
        peers = java.util.Collections.unmodifiableMap(peers);
        contested = Set.copyOf(contested);
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
     * What changed from one snapshot to the next: the peers whose records changed ({@code scope})
     * and their new desired configuration ({@code changes}; a key mapped to null is no longer
     * wanted). The rest of the plan is as before.
     */
    public record Advance(Map<WireGuardPublicKey, PeerConfig> changes, Set<WireGuardPublicKey> scope) {
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
     * one snapshot to the next, and the maps share them); null
     * when this host's own record or the mesh config changed, which can change every peer, and
     * when a changed record advertises an underlay address that another peer holds or that is
     * contested, since that changes another peer's allowed IPs too.
     *
     * @param holder which peer holds an allowed IP on the device now
     */
    public Advance advance(MeshSnapshot previous, MeshSnapshot next, Identity self, Function<IpPrefix, WireGuardPublicKey> holder) {
        NodeRecord own = next.records().get(self.node());
        if (standing != Standing.MEMBER || previous.config() != next.config() || previous.records().get(self.node()) != own) {
            return null;
        }
        Map<WireGuardPublicKey, PeerConfig> changes = new HashMap<>();
        boolean[] sharedAddress = {false};
        next.changedSince(previous, (node, before, record) -> {
            if (before != null) {
                changes.putIfAbsent(before.wgPublicKey(), null);
            }
            if (record != null) {
                for (var endpoint : record.endpoints()) {
                    WireGuardPublicKey held = holder.apply(IpPrefix.host(endpoint.address()));
                    sharedAddress[0] |= contested.contains(endpoint.address()) || held != null && !held.equals(record.wgPublicKey())
                            && (before == null || !held.equals(before.wgPublicKey()));
                }
                PeerConfig peer = DesiredPeers.peerFor(record, own, natKeepaliveSeconds, contested);
                if (peer != null) {
                    changes.put(peer.publicKey(), peer);
                } else {
                    changes.putIfAbsent(record.wgPublicKey(), null);
                }
            }
        });
        return sharedAddress[0] ? null : new Advance(changes, new HashSet<>(changes.keySet()));
    }

    public static DevicePlan of(MeshSnapshot mesh, Identity self, String interfaceName, DeviceOverrides overrides) {
        NodeRecord own = mesh.records().get(self.node());
        MeshConfig config = mesh.config();
        int listenPort = first(overrides.listenPort(), config == null ? null : config.listenPort(), DeviceOverrides.DEFAULT_LISTEN_PORT);
        if (!self.isAdmittedBy(own)) {
            Standing standing = self.isRevokedBy(own) ? Standing.REVOKED : Standing.OUTSIDER;
            return new DevicePlan(standing, null, listenPort, 0, Map.of(), Set.of());
        }
        int keepalive = first(overrides.natKeepaliveSeconds(), config == null ? null : config.keepaliveSeconds(),
                DeviceOverrides.DEFAULT_NAT_KEEPALIVE_SECONDS);
        Integer mtu = overrides.mtu() != null ? overrides.mtu() : config == null ? null : config.mtu();
        List<LinkAddress> addresses = own.addresses().stream().map(a -> withOverlayLength(a, config)).toList();
        Set<InetAddress> contested = DesiredPeers.contested(mesh.records().values(), own);
        return new DevicePlan(Standing.MEMBER, new LinkSpec(interfaceName, addresses, mtu), listenPort, keepalive,
                DesiredPeers.of(mesh.records().values(), own, keepalive, contested), contested);
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
