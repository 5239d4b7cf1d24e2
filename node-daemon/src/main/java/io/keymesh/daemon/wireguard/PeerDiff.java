package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The minimal delta from the device's peers to the desired ones. Pure. Only peers keymesh owns
 * are removed: a peer is keymesh's if it is desired now or keymesh configured it before
 * ({@code owned}); a peer someone added by hand is never touched. Results are sorted by key so
 * the same inputs always give the same delta.
 */
public final class PeerDiff {
    private static final Comparator<WireGuardPublicKey> BY_KEY = Comparator.comparing(WireGuardPublicKey::base64);

    private PeerDiff() {
    }

    public static PeerDelta compute(Map<WireGuardPublicKey, PeerConfig> desired, Map<WireGuardPublicKey, PeerConfig> actual,
                                    Set<WireGuardPublicKey> owned) {
        List<PeerConfig> adds = new ArrayList<>();
        List<PeerConfig> updates = new ArrayList<>();
        for (PeerConfig want : desired.values()) {
            PeerConfig have = actual.get(want.publicKey());
            if (have == null) {
                adds.add(want);
            } else if (!satisfies(have, want)) {
                updates.add(want);
            }
        }
        List<WireGuardPublicKey> removals = actual.keySet().stream()
                .filter(key -> owned.contains(key) && !desired.containsKey(key))
                .sorted(BY_KEY)
                .toList();
        adds.sort(Comparator.comparing(PeerConfig::publicKey, BY_KEY));
        updates.sort(Comparator.comparing(PeerConfig::publicKey, BY_KEY));
        return new PeerDelta(adds, updates, removals);
    }

    /**
     * Whether the device's peer already is what we want. With no desired endpoint (the peer is
     * behind NAT) whatever endpoint WireGuard learned by roaming is left alone.
     */
    static boolean satisfies(PeerConfig have, PeerConfig want) {
        return have.keepaliveSeconds() == want.keepaliveSeconds()
                && have.allowedIps().equals(want.allowedIps())
                && (want.endpoint() == null || Objects.equals(have.endpoint(), want.endpoint()));
    }
}
