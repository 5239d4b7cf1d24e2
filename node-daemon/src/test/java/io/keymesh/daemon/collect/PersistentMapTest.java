package io.keymesh.daemon.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PersistentMapTest {
    /** A key whose hash the test chooses, to force shared prefixes and full 32-bit collisions. */
    private record Key(int id, int hash) {
        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.id == id;
        }
    }

    private static Key key(Random random, int id) {
        // Few distinct hashes among many ids: collisions, and hashes sharing long prefixes.
        // The map spreads h into h ^ (h >>> 16): these reach it as 0, 0x40000000, 0x80000000 and 0xC0000000,
        // parting only in the top two bits (the last level), beside collisions and low-bit differences.
        int[] hashes = {0, 0x40004000, 0x80008000, 0xC000C000, 1, 32, -1, Integer.MIN_VALUE, 0x7fff0000, 12345};
        return new Key(id, id < 40 ? hashes[id % hashes.length] : id * 0x9E3779B9);
    }

    @Test
    void behavesAsAHashMapThroughRandomChangesAndDiffsReportExactlyWhatChanged() {
        Random random = new Random(7);
        for (int round = 0; round < 40; round++) {
            Map<Key, String> expected = new HashMap<>();
            PersistentMap<Key, String> map = PersistentMap.empty();
            for (int step = 0; step < 400; step++) {
                Map<Key, String> expectedBefore = new HashMap<>(expected);
                PersistentMap<Key, String> before = map;
                int changes = 1 + random.nextInt(4);
                for (int c = 0; c < changes; c++) {
                    Key key = key(random, random.nextInt(120));
                    if (random.nextInt(3) == 0) {
                        expected.remove(key);
                        map = map.without(key);
                    } else {
                        String value = "v" + random.nextInt(1000);
                        expected.put(key, value);
                        map = map.with(key, value);
                    }
                }
                assertEquals(expected, map);
                assertEquals(expected, new HashMap<>(map), "iteration yields exactly the entries");
                assertEquals(expected.size(), map.size());
                assertEquals(expectedBefore, before, "an older version never changes");
                PersistentMap<Key, String> current = map;
                expected.forEach((k, v) -> assertEquals(v, current.get(k)));

                Map<Key, String[]> reported = new HashMap<>();
                PersistentMap.diff(before, map, (k, was, now) -> {
                    if (reported.put(k, new String[] {was, now}) != null) {
                        throw new AssertionError(k + " reported twice");
                    }
                });
                Map<Key, String[]> naive = new HashMap<>();
                for (Key k : union(expectedBefore, expected)) {
                    String was = expectedBefore.get(k);
                    String now = expected.get(k);
                    if (was != now) { // identity, as diff compares
                        naive.put(k, new String[] {was, now});
                    }
                }
                assertEquals(naive.keySet(), reported.keySet());
                naive.forEach((k, pair) -> {
                    assertSame(pair[0], reported.get(k)[0]);
                    assertSame(pair[1], reported.get(k)[1]);
                });
            }
        }
    }

    private static java.util.Set<Key> union(Map<Key, String> a, Map<Key, String> b) {
        java.util.Set<Key> all = new java.util.HashSet<>(a.keySet());
        all.addAll(b.keySet());
        return all;
    }

    @Test
    void changingNothingKeepsTheSameMapAndDiffsVisitOnlyTheChangedPath() {
        PersistentMap<String, Integer> map = PersistentMap.empty();
        for (int i = 0; i < 10_000; i++) {
            map = map.with("node-" + i, i);
        }
        Integer value = map.get("node-5");
        assertSame(map, map.with("node-5", value));
        assertSame(map, map.without("absent"));
        PersistentMap<String, Integer> next = map.with("node-5", 5000).without("node-6").with("node-10000", 1);
        Map<String, Integer[]> reported = new HashMap<>();
        PersistentMap.diff(map, next, (k, was, now) -> reported.put(k, new Integer[] {was, now}));
        assertEquals(3, reported.size());
        assertEquals(5000, reported.get("node-5")[1]);
        assertNull(reported.get("node-6")[1]);
        assertNull(reported.get("node-10000")[0]);
        assertEquals(10_000, next.size());
        assertNull(next.get(null));
    }

    @Test
    void aPersistentSetKeepsEveryVersion() {
        PersistentSet<String> empty = PersistentSet.empty();
        PersistentSet<String> ab = empty.with("a").with("b");
        PersistentSet<String> b = ab.without("a");
        assertEquals(java.util.Set.of("a", "b"), ab);
        assertEquals(java.util.Set.of("b"), b);
        assertEquals(java.util.Set.of(), empty);
        assertSame(ab, ab.with("a"));
        assertSame(b, b.without("a"));
        assertEquals(java.util.Set.of("x", "y"), PersistentSet.copyOf(java.util.List.of("x", "y", "x")));
    }

    @Test
    void copyOfAPersistentMapIsThatMap() {
        PersistentMap<String, Integer> map = PersistentMap.copyOf(Map.of("a", 1, "b", 2));
        assertSame(map, PersistentMap.copyOf(map));
        assertEquals(Map.of("a", 1, "b", 2), map);
    }
}
