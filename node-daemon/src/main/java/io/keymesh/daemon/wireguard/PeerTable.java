package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A device's peers and what applying a delta does to them, with WireGuard's semantics: setting
 * a peer replaces its allowed IPs, and an allowed IP belongs to one peer at a time, so giving it
 * to one takes it from any other. It indexes which peer holds each allowed IP, as WireGuard's own
 * table does, so a delta costs what it changes, not a scan of every peer. Mutable, not thread
 * safe; the in-memory device and the device worker (for the device it knows between full reads)
 * each own one.
 */
public final class PeerTable {
    private final Map<WireGuardPublicKey, PeerConfig> peers = new LinkedHashMap<>();
    private final Map<IpPrefix, WireGuardPublicKey> holders = new HashMap<>();
    private final Map<WireGuardPublicKey, PeerConfig> view = Collections.unmodifiableMap(peers);

    public PeerTable() {
    }

    /** A table holding {@code peers} (as read from a device). */
    public PeerTable(Map<WireGuardPublicKey, PeerConfig> peers) {
        apply(new PeerDelta(List.copyOf(peers.values()), List.of(), List.of()));
    }

    /** The peers now, read-only and live: it changes with the table. */
    public Map<WireGuardPublicKey, PeerConfig> peers() {
        return view;
    }

    /** The peer holding {@code ip} as one of its allowed IPs, or null. */
    public WireGuardPublicKey holder(IpPrefix ip) {
        return holders.get(ip);
    }

    public void apply(PeerDelta delta) {
        List<PeerConfig> sets = new ArrayList<>(delta.adds());
        sets.addAll(delta.updates());
        for (PeerConfig set : sets) {
            PeerConfig before = peers.get(set.publicKey());
            if (before == null || !before.allowedIps().equals(set.allowedIps())) {
                takeAllowedIps(set, before);
            }
            // No desired endpoint keeps the one the device has (learned by roaming).
            peers.put(set.publicKey(), set.endpoint() == null && before != null
                    ? new PeerConfig(set.publicKey(), before.endpoint(), set.keepaliveSeconds(), set.allowedIps())
                    : set);
        }
        for (WireGuardPublicKey removed : delta.removals()) {
            PeerConfig gone = peers.remove(removed);
            if (gone != null) {
                gone.allowedIps().forEach(ip -> holders.remove(ip, removed));
            }
        }
    }

    /** Gives {@code set} its allowed IPs: taken from whichever other peers hold them, and released where it held others. */
    private void takeAllowedIps(PeerConfig set, PeerConfig before) {
        WireGuardPublicKey key = set.publicKey();
        Map<WireGuardPublicKey, Set<IpPrefix>> takenFrom = new HashMap<>();
        for (IpPrefix ip : set.allowedIps()) {
            WireGuardPublicKey holder = holders.put(ip, key);
            if (holder != null && !holder.equals(key)) {
                takenFrom.computeIfAbsent(holder, k -> new HashSet<>()).add(ip);
            }
        }
        takenFrom.forEach((holder, taken) -> {
            PeerConfig other = peers.get(holder);
            peers.put(holder, new PeerConfig(holder, other.endpoint(), other.keepaliveSeconds(),
                    other.allowedIps().stream().filter(ip -> !taken.contains(ip)).toList()));
        });
        if (before != null) {
            Set<IpPrefix> kept = new HashSet<>(set.allowedIps());
            before.allowedIps().stream().filter(ip -> !kept.contains(ip)).forEach(ip -> holders.remove(ip, key));
        }
    }
}
