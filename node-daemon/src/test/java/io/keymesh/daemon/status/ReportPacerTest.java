package io.keymesh.daemon.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportPacerTest {
    /** A clock the test moves. */
    private static final class ManualClock extends Clock {
        Instant now = Instant.parse("2026-11-21T10:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }

    @Test
    void theFirstReportGoesAtOnceAndABurstCostsOneMoreAtTheEndOfTheInterval() {
        ManualClock clock = new ManualClock();
        List<Runnable> timers = new ArrayList<>();
        List<Duration> delays = new ArrayList<>();
        int[] reports = {0};
        ReportPacer pacer = new ReportPacer(clock, (delay, action) -> {
            delays.add(delay);
            timers.add(action);
        }, () -> 1000, () -> reports[0]++);

        pacer.request();
        assertEquals(1, reports[0], "after a quiet spell: at once");
        for (int i = 0; i < 50; i++) {
            clock.now = clock.now.plusMillis(10);
            pacer.request();
        }
        assertEquals(1, reports[0], "within the interval: none more yet");
        assertEquals(List.of(Duration.ofMillis(990)), delays, "one scheduled, at the end of the 1 s interval of a 1,000-node mesh");
        clock.now = clock.now.plusMillis(490);
        timers.get(0).run();
        assertEquals(2, reports[0]);

        clock.now = clock.now.plusSeconds(5);
        pacer.request();
        assertEquals(3, reports[0], "quiet again: at once");
    }

    @Test
    void theIntervalIsAMillisecondPerNodeWithinBounds() {
        assertEquals(Duration.ofMillis(100), ReportPacer.interval(4));
        assertEquals(Duration.ofMillis(1000), ReportPacer.interval(1000));
        assertEquals(Duration.ofSeconds(10), ReportPacer.interval(50_000));
    }
}
