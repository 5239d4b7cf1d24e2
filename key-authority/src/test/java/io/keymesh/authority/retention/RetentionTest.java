package io.keymesh.authority.retention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetentionTest {
    private static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");

    private static Finished at(String key, Instant at) {
        return Finished.of(key, 7, at);
    }

    private static List<String> keys(List<Finished> finished) {
        return finished.stream().map(f -> f.keys().get(0).key()).toList();
    }

    @Test
    void valuesOlderThanTheAgeGoAndNewerOnesStay() {
        Limit limit = new Limit(Duration.ofDays(7), 100);
        List<Finished> all = List.of(
                at("old", NOW.minus(Duration.ofDays(8))),
                at("just-inside", NOW.minus(Duration.ofDays(7)).plusSeconds(1)),
                at("exactly-at-the-age", NOW.minus(Duration.ofDays(7))),
                at("new", NOW.minusSeconds(5)));
        assertEquals(List.of("old"), keys(Retention.expired(all, limit, NOW)));
    }

    @Test
    void beyondTheCountTheOldestGoFirstAndUnreadableValuesBeforeAnything() {
        Limit limit = new Limit(Duration.ofDays(30), 3);
        List<Finished> all = new ArrayList<>(List.of(
                at("d", NOW.minusSeconds(4)),
                at("a", NOW.minusSeconds(40)),
                at("junk", null),
                at("c", NOW.minusSeconds(10)),
                at("b", NOW.minusSeconds(20))));
        assertEquals(List.of("junk", "a"), keys(Retention.expired(all, limit, NOW)));
    }

    @Test
    void unreadableValuesNeverExpireByAgeOnlyByCount() {
        Limit limit = new Limit(Duration.ofMinutes(1), 2);
        assertEquals(List.of(), Retention.expired(List.of(at("junk", null), at("new", NOW)), limit, NOW));
    }

    @Test
    void everyReplicaChoosesTheSameWhateverTheOrderItReadThemIn() {
        Limit limit = new Limit(Duration.ofDays(1), 50);
        List<Finished> all = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            all.add(at(String.format("k%03d", i), i % 3 == 0 ? null : NOW.minus(Duration.ofHours(i % 40))));
        }
        List<String> first = keys(Retention.expired(all, limit, NOW));
        Collections.shuffle(all, new Random(42));
        assertEquals(first, keys(Retention.expired(all, limit, NOW)));
        assertEquals(150, first.size()); // 200 kept down to 50
        List<Finished> kept = all.stream().filter(f -> !first.contains(keys(List.of(f)).get(0))).toList();
        Instant oldestKept = kept.stream().map(Finished::at).min(Instant::compareTo).orElseThrow();
        assertTrue(kept.stream().allMatch(f -> f.at() != null), "an unreadable value outlived a readable one");
        assertTrue(Retention.expired(all, limit, NOW).stream().allMatch(f -> f.at() == null || !f.at().isAfter(oldestKept)),
                "a newer value went before an older one");
    }

    @Test
    void limitsRefuseAnAgeUnderAMinuteAndACountUnderOne() {
        assertThrows(IllegalArgumentException.class, () -> new Limit(Duration.ofSeconds(59), 10));
        assertThrows(IllegalArgumentException.class, () -> new Limit(Duration.ofDays(1), 0));
    }
}
