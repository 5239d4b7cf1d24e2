package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerDiffTest {
    private static final List<WireGuardPublicKey> KEYS = new ArrayList<>();

    static {
        for (int i = 0; i < 12; i++) {
            KEYS.add(WireGuardPrivateKey.generate().publicKey());
        }
    }

    private static PeerConfig peer(int key, String endpoint, int keepalive, String... ips) {
        return new PeerConfig(KEYS.get(key), endpoint == null ? null : Endpoint.parse(endpoint), keepalive,
                java.util.Arrays.stream(ips).map(IpPrefix::parse).toList());
    }

    private static Map<WireGuardPublicKey, PeerConfig> peers(PeerConfig... configs) {
        Map<WireGuardPublicKey, PeerConfig> map = new LinkedHashMap<>();
        for (PeerConfig c : configs) {
            map.put(c.publicKey(), c);
        }
        return map;
    }

    /** {@code peers} after {@code delta}, as a new map (what the device holds after applying it). */
    private static Map<WireGuardPublicKey, PeerConfig> applied(Map<WireGuardPublicKey, PeerConfig> peers, PeerDelta delta) {
        PeerTable table = new PeerTable(peers);
        table.apply(delta);
        return new LinkedHashMap<>(table.peers());
    }

    @Test
    void nothingToDoWhenTheDeviceMatches() {
        Map<WireGuardPublicKey, PeerConfig> same = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.1/32"));
        assertTrue(PeerDiff.compute(same, same, same.keySet()).isEmpty());
    }

    @Test
    void addsUpdatesAndRemovesOnlyWhatDiffers() {
        var actual = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.1/32"),
                peer(1, "192.0.2.2:51820", 0, "198.18.0.2/32"),
                peer(2, "192.0.2.3:51820", 0, "198.18.0.3/32"));
        var desired = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.1/32"),
                peer(1, "192.0.2.22:51820", 0, "198.18.0.2/32"),
                peer(3, "192.0.2.4:51820", 0, "198.18.0.4/32"));
        PeerDelta delta = PeerDiff.compute(desired, actual, Set.of(KEYS.get(0), KEYS.get(1), KEYS.get(2)));
        assertEquals(List.of(desired.get(KEYS.get(3))), delta.adds());
        assertEquals(List.of(desired.get(KEYS.get(1))), delta.updates());
        assertEquals(List.of(KEYS.get(2)), delta.removals());
    }

    @Test
    void aPeerAddedByHandIsNeverTouched() {
        var actual = peers(peer(5, "203.0.113.9:51820", 0, "203.0.113.0/24"));
        PeerDelta delta = PeerDiff.compute(Map.of(), actual, Set.of());
        assertTrue(delta.isEmpty(), String.valueOf(delta));
    }

    @Test
    void aPeerBehindNatKeepsTheEndpointRoamingLearned() {
        var actual = peers(peer(0, "198.51.100.77:40000", 0, "198.18.0.1/32"));
        var desired = peers(peer(0, null, 0, "198.18.0.1/32"));
        assertTrue(PeerDiff.compute(desired, actual, desired.keySet()).isEmpty());
        var keepaliveChanged = peers(peer(0, null, 25, "198.18.0.1/32"));
        PeerDelta delta = PeerDiff.compute(keepaliveChanged, actual, desired.keySet());
        assertEquals(1, delta.updates().size());
        assertEquals(Endpoint.parse("198.51.100.77:40000"),
                applied(actual, delta).get(KEYS.get(0)).endpoint(), "the roamed endpoint stays");
    }

    @Test
    void aRotatedKeyTakesTheAddressesBeforeTheOldPeerGoes() {
        var actual = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.1/32"));
        var desired = peers(peer(1, "192.0.2.1:51820", 0, "198.18.0.1/32"));
        PeerDelta delta = PeerDiff.compute(desired, actual, actual.keySet());
        assertEquals(List.of(desired.get(KEYS.get(1))), delta.adds());
        assertEquals(List.of(KEYS.get(0)), delta.removals());
        // Between the add and the removal the address already routes to the new key.
        var midway = applied(actual, new PeerDelta(delta.adds(), delta.updates(), List.of()));
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), midway.get(KEYS.get(1)).allowedIps());
        assertEquals(List.of(), midway.get(KEYS.get(0)).allowedIps());
        assertEquals(desired, applied(actual, delta));
    }

    @Test
    void allowedIpsCompareAsSets() {
        var actual = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.2/32", "198.18.0.1/32"));
        var desired = peers(peer(0, "192.0.2.1:51820", 0, "198.18.0.1/32", "198.18.0.2/32"));
        assertTrue(PeerDiff.compute(desired, actual, desired.keySet()).isEmpty());
    }

    /** Random meshes: the delta reaches the desired peers, spares hand-added ones, and is minimal. */
    @Test
    void randomDevicesConvergeInOneDeltaWithNoSpareOperations() {
        Random random = new Random(42);
        for (int round = 0; round < 2_000; round++) {
            Map<WireGuardPublicKey, PeerConfig> desired = randomPeers(random, 0);
            Map<WireGuardPublicKey, PeerConfig> actual = randomPeers(random, 100);
            Set<WireGuardPublicKey> owned = new HashSet<>();
            Set<WireGuardPublicKey> handAdded = new HashSet<>();
            for (WireGuardPublicKey key : actual.keySet()) {
                if (random.nextInt(4) == 0 && !desired.containsKey(key)) {
                    handAdded.add(key);
                } else {
                    owned.add(key);
                }
            }
            PeerDelta delta = PeerDiff.compute(desired, actual, owned);
            Map<WireGuardPublicKey, PeerConfig> after = applied(actual, delta);
            for (PeerConfig want : desired.values()) {
                assertTrue(PeerDiff.satisfies(after.get(want.publicKey()), want), "round " + round);
            }
            for (WireGuardPublicKey key : after.keySet()) {
                assertTrue(desired.containsKey(key) || handAdded.contains(key), "an owned peer left behind, round " + round);
            }
            Set<WireGuardPublicKey> touched = new HashSet<>(delta.removals());
            delta.adds().forEach(p -> touched.add(p.publicKey()));
            delta.updates().forEach(p -> touched.add(p.publicKey()));
            for (WireGuardPublicKey key : touched) {
                assertTrue(!handAdded.contains(key), "a hand-added peer was touched, round " + round);
                boolean needed = !desired.containsKey(key) || !actual.containsKey(key)
                        || !PeerDiff.satisfies(actual.get(key), desired.get(key));
                assertTrue(needed, "a spare operation on a peer that was already right, round " + round);
            }
            Set<WireGuardPublicKey> ownedAfter = new HashSet<>(owned);
            ownedAfter.addAll(desired.keySet());
            assertTrue(PeerDiff.compute(desired, after, ownedAfter).isEmpty(), "not converged in one delta, round " + round);
        }
    }

    /** Up to 8 peers from a small key pool, each with distinct allowed IPs per map. */
    private static Map<WireGuardPublicKey, PeerConfig> randomPeers(Random random, int ipBase) {
        Map<WireGuardPublicKey, PeerConfig> map = new HashMap<>();
        int n = random.nextInt(9);
        for (int i = 0; i < n; i++) {
            int key = random.nextInt(KEYS.size());
            String endpoint = random.nextInt(5) == 0 ? null : "192.0.2." + (1 + random.nextInt(3)) + ":51820";
            int keepalive = random.nextInt(3) == 0 ? 25 : 0;
            // IPs are per key, so a desired and an actual peer of one key often agree.
            String ip = "198.18." + (random.nextInt(2) == 0 ? 0 : ipBase / 100 + 1) + "." + (key + 1) + "/32";
            map.put(KEYS.get(key), new PeerConfig(KEYS.get(key), endpoint == null ? null : Endpoint.parse(endpoint), keepalive,
                    List.of(IpPrefix.parse(ip))));
        }
        return map;
    }
}
