package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.Endpoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PeerTableTest {
    private static final WireGuardPublicKey A = WireGuardPrivateKey.generate().publicKey();
    private static final WireGuardPublicKey B = WireGuardPrivateKey.generate().publicKey();
    private static final WireGuardPublicKey C = WireGuardPrivateKey.generate().publicKey();

    private static PeerConfig peer(WireGuardPublicKey key, String... ips) {
        return new PeerConfig(key, null, 0, Arrays.stream(ips).map(IpPrefix::parse).toList());
    }

    private static List<IpPrefix> ips(PeerTable table, WireGuardPublicKey key) {
        return table.peers().get(key).allowedIps();
    }

    /** The first implementation, which scanned every peer for each set: the reference for the indexed one. */
    private static void applyByScanning(Map<WireGuardPublicKey, PeerConfig> result, PeerDelta delta) {
        List<PeerConfig> sets = new ArrayList<>(delta.adds());
        sets.addAll(delta.updates());
        for (PeerConfig set : sets) {
            PeerConfig previous = result.get(set.publicKey());
            boolean sameIps = previous != null && previous.allowedIps().equals(set.allowedIps());
            Set<IpPrefix> taken = sameIps ? Set.of() : new HashSet<>(set.allowedIps());
            if (!taken.isEmpty()) {
                result.replaceAll((key, other) -> key.equals(set.publicKey()) || other.allowedIps().stream().noneMatch(taken::contains)
                        ? other
                        : new PeerConfig(key, other.endpoint(), other.keepaliveSeconds(),
                                other.allowedIps().stream().filter(ip -> !taken.contains(ip)).toList()));
            }
            PeerConfig before = result.get(set.publicKey());
            result.put(set.publicKey(), set.endpoint() == null && before != null
                    ? new PeerConfig(set.publicKey(), before.endpoint(), set.keepaliveSeconds(), set.allowedIps())
                    : set);
        }
        delta.removals().forEach(result::remove);
    }

    @Test
    void agreesWithScanningEveryPeerThroughRandomDeltas() {
        List<WireGuardPublicKey> keys = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            keys.add(WireGuardPrivateKey.generate().publicKey());
        }
        Random random = new Random(11);
        for (int round = 0; round < 200; round++) {
            PeerTable table = new PeerTable();
            Map<WireGuardPublicKey, PeerConfig> reference = new LinkedHashMap<>();
            for (int step = 0; step < 30; step++) {
                List<PeerConfig> adds = new ArrayList<>();
                List<PeerConfig> updates = new ArrayList<>();
                List<WireGuardPublicKey> removals = new ArrayList<>();
                for (int c = random.nextInt(4); c >= 0; c--) {
                    WireGuardPublicKey key = keys.get(random.nextInt(keys.size()));
                    if (random.nextInt(4) == 0) {
                        removals.add(key);
                        continue;
                    }
                    List<IpPrefix> ips = new ArrayList<>();
                    for (int i = random.nextInt(3); i > 0; i--) {
                        ips.add(IpPrefix.parse("198.18.0." + random.nextInt(6) + "/32")); // few addresses: they move a lot
                    }
                    Endpoint endpoint = random.nextBoolean() ? null : Endpoint.parse("192.0.2." + (1 + random.nextInt(5)) + ":51820");
                    (random.nextBoolean() ? adds : updates).add(new PeerConfig(key, endpoint, random.nextInt(2) * 25, ips));
                }
                PeerDelta delta = new PeerDelta(adds, updates, removals);
                table.apply(delta);
                applyByScanning(reference, delta);
                assertEquals(reference, table.peers(), "round " + round + ", step " + step);
                assertEquals(new ArrayList<>(reference.keySet()), new ArrayList<>(table.peers().keySet()), "same order");
                Map<IpPrefix, Integer> holders = new HashMap<>();
                table.peers().values().forEach(p -> p.allowedIps().forEach(ip -> holders.merge(ip, 1, Integer::sum)));
                holders.forEach((ip, count) -> assertEquals(1, count, ip + " has one holder"));
            }
        }
    }

    @Test
    void anAllowedIpHasOneHolderAndMovesOnlyWhenAnotherPeerTakesIt() {
        PeerTable table = new PeerTable();
        table.apply(new PeerDelta(List.of(peer(A, "198.18.0.1/32", "198.18.0.2/32"), peer(C, "198.18.0.9/32")), List.of(), List.of()));

        // B takes .2 from A: A keeps only .1.
        table.apply(new PeerDelta(List.of(peer(B, "198.18.0.2/32")), List.of(), List.of()));
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), ips(table, A));
        assertEquals(List.of(IpPrefix.parse("198.18.0.2/32")), ips(table, B));

        // B drops .2 for .3; C then takes .2, which nobody holds, and .3 from B.
        table.apply(new PeerDelta(List.of(), List.of(peer(B, "198.18.0.3/32")), List.of()));
        table.apply(new PeerDelta(List.of(), List.of(peer(C, "198.18.0.2/32", "198.18.0.3/32", "198.18.0.9/32")), List.of()));
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), ips(table, A));
        assertEquals(List.of(), ips(table, B));
        assertEquals(3, ips(table, C).size());

        // Removing C frees its IPs: A can take .3 back without touching anyone.
        table.apply(new PeerDelta(List.of(), List.of(), List.of(C)));
        table.apply(new PeerDelta(List.of(), List.of(peer(A, "198.18.0.1/32", "198.18.0.3/32")), List.of()));
        assertEquals(2, ips(table, A).size());
        assertEquals(List.of(), ips(table, B));
        assertEquals(2, table.peers().size());
    }
}
