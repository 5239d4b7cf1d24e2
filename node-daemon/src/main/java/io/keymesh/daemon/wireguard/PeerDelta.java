package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.List;

/**
 * The changes that turn a device's peers into the desired ones, per peer, never "replace all".
 * Applied in this order: {@link #adds} and {@link #updates} (each sets the peer's endpoint,
 * keepalive and exactly its allowed IPs), then {@link #removals}. WireGuard moves an allowed IP
 * to the peer it is added to, so adding first never leaves a prefix routed to no peer, which is
 * what a key rotation (new peer key, same addresses) needs; removing first would.
 */
public record PeerDelta(List<PeerConfig> adds, List<PeerConfig> updates, List<WireGuardPublicKey> removals) {
    public PeerDelta {
        adds = List.copyOf(adds);
        updates = List.copyOf(updates);
        removals = List.copyOf(removals);
    }

    public boolean isEmpty() {
        return adds.isEmpty() && updates.isEmpty() && removals.isEmpty();
    }

    public int size() {
        return adds.size() + updates.size() + removals.size();
    }
}
