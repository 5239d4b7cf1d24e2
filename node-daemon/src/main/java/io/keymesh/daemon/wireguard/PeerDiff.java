package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.ArrayList;
import java.util.Collection;
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
        Set<WireGuardPublicKey> every = new java.util.HashSet<>(desired.keySet());
        every.addAll(actual.keySet());
        return computeFor(every, desired, actual, owned);
    }

    /**
     * The same delta restricted to the peers in {@code scope}: when the device is known to match
     * everything else, the peers of the records that changed are all there is to compare.
     */
    public static PeerDelta computeFor(Collection<WireGuardPublicKey> scope, Map<WireGuardPublicKey, PeerConfig> desired,
                                       Map<WireGuardPublicKey, PeerConfig> actual, Set<WireGuardPublicKey> owned) {
        List<PeerConfig> adds = new ArrayList<>();
        List<PeerConfig> updates = new ArrayList<>();
        List<WireGuardPublicKey> removals = new ArrayList<>();
        for (WireGuardPublicKey key : scope) {
            PeerConfig want = desired.get(key);
            PeerConfig have = actual.get(key);
            if (want != null && have == null) {
                adds.add(want);
            } else if (want != null && !satisfies(have, want)) {
                updates.add(want);
            } else if (want == null && have != null && owned.contains(key)) {
                removals.add(key);
            }
        }
        adds.sort(Comparator.comparing(PeerConfig::publicKey, BY_KEY));
        updates.sort(Comparator.comparing(PeerConfig::publicKey, BY_KEY));
        removals.sort(BY_KEY);
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
