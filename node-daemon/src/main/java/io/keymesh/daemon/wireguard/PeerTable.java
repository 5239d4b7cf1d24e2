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
 * takes it from any other. Pure; the in-memory device and the tests use it.
 */
public final class PeerTable {
    private PeerTable() {
    }

    public static Map<WireGuardPublicKey, PeerConfig> apply(Map<WireGuardPublicKey, PeerConfig> peers, PeerDelta delta) {
        Map<WireGuardPublicKey, PeerConfig> result = new LinkedHashMap<>(peers);
        List<PeerConfig> sets = new ArrayList<>(delta.adds());
        sets.addAll(delta.updates());
        for (PeerConfig set : sets) {
            Set<IpPrefix> taken = new HashSet<>(set.allowedIps());
            result.replaceAll((key, other) -> key.equals(set.publicKey()) || other.allowedIps().stream().noneMatch(taken::contains)
                    ? other
                    : new PeerConfig(key, other.endpoint(), other.keepaliveSeconds(),
                            other.allowedIps().stream().filter(ip -> !taken.contains(ip)).toList()));
            PeerConfig before = result.get(set.publicKey());
            // No desired endpoint keeps the one the device has (learned by roaming).
            result.put(set.publicKey(), set.endpoint() == null && before != null
                    ? new PeerConfig(set.publicKey(), before.endpoint(), set.keepaliveSeconds(), set.allowedIps())
                    : set);
        }
        delta.removals().forEach(result::remove);
        return result;
    }
}
