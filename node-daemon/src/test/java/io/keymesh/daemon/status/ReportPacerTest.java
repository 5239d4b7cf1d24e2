package io.keymesh.daemon.status;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportPacerTest {
    private long now = 1_000_000_000L;
    private final List<Runnable> timers = new ArrayList<>();
    private final List<Duration> delays = new ArrayList<>();
    private int reports;

    private ReportPacer pacer(int meshSize) {
        return new ReportPacer(() -> now, (delay, action) -> {
            delays.add(delay);
            timers.add(action);
        }, () -> meshSize, () -> reports++);
    }

    private void advance(long millis) {
        now += Duration.ofMillis(millis).toNanos();
    }

    @Test
    void twoReportsGoAtOnceThenABurstCostsOneMoreAtTheEndOfTheInterval() {
        ReportPacer pacer = pacer(1000); // a 2 s interval
        pacer.request();
        advance(300);
        pacer.request();
        assertEquals(2, reports, "a rotation's mark and commit are both reported at once");
        for (int i = 0; i < 50; i++) {
            advance(10);
            pacer.request();
        }
        assertEquals(2, reports, "a third within the interval waits");
        assertEquals(List.of(Duration.ofMillis(1690)), delays, "one report scheduled, 2 s after the first");
        advance(1690);
        timers.get(0).run();
        assertEquals(3, reports);

        advance(5000);
        pacer.request();
        assertEquals(4, reports, "quiet again: at once");
    }

    @Test
    void aTimerThatCannotBeSetAnyMoreLeavesThePacerUsable() {
        int[] calls = {0};
        ReportPacer pacer = new ReportPacer(() -> now, (delay, action) -> {
            calls[0]++;
            throw new IllegalStateException("closed");
        }, () -> 1000, () -> reports++);
        pacer.request();
        pacer.request();
        pacer.request();
        pacer.request();
        assertEquals(2, reports);
        assertEquals(2, calls[0], "each later request tries again rather than waiting on a timer that never fires");
    }

    @Test
    void theIntervalIsTwoMillisecondsPerNodeWithinBounds() {
        assertEquals(Duration.ofMillis(200), ReportPacer.interval(4));
        assertEquals(Duration.ofMillis(2000), ReportPacer.interval(1000));
        assertEquals(Duration.ofSeconds(10), ReportPacer.interval(50_000));
    }
}
