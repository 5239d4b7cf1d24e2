package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What applying a delta does to a device's peers, with WireGuard's semantics: setting a peer
 * replaces its allowed IPs, and an allowed IP belongs to one peer at a time, so giving it to one
 * takes it from any other. Pure; the in-memory device and the device worker (for the device it
 * knows between full reads) use it.
 */
public final class PeerTable {
    private PeerTable() {
    }

    public static Map<WireGuardPublicKey, PeerConfig> apply(Map<WireGuardPublicKey, PeerConfig> peers, PeerDelta delta) {
        Map<WireGuardPublicKey, PeerConfig> result = new LinkedHashMap<>(peers);
        applyInPlace(result, delta);
        return result;
    }

    /** The same, changing {@code result} itself: no copy of a large table for a one-peer delta. */
    public static void applyInPlace(Map<WireGuardPublicKey, PeerConfig> result, PeerDelta delta) {
        List<PeerConfig> sets = new ArrayList<>(delta.adds());
        sets.addAll(delta.updates());
        for (PeerConfig set : sets) {
            PeerConfig previous = result.get(set.publicKey());
            boolean sameIps = previous != null && previous.allowedIps().equals(set.allowedIps());
            // A peer keeping its own allowed IPs takes them from nobody (an IP has one peer): no scan.
            Set<IpPrefix> taken = sameIps ? Set.of() : new HashSet<>(set.allowedIps());
            if (!taken.isEmpty()) {
                result.replaceAll((key, other) -> key.equals(set.publicKey()) || other.allowedIps().stream().noneMatch(taken::contains)
                        ? other
                        : new PeerConfig(key, other.endpoint(), other.keepaliveSeconds(),
                                other.allowedIps().stream().filter(ip -> !taken.contains(ip)).toList()));
            }
            PeerConfig before = result.get(set.publicKey());
            // No desired endpoint keeps the one the device has (learned by roaming).
            result.put(set.publicKey(), set.endpoint() == null && before != null
                    ? new PeerConfig(set.publicKey(), before.endpoint(), set.keepaliveSeconds(), set.allowedIps())
                    : set);
        }
        delta.removals().forEach(result::remove);
    }
}
