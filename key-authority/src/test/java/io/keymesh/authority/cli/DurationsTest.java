package io.keymesh.authority.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
    @Test
    void durationsAreShownToTheirTwoLargestUnits() {
        assertEquals("0s", Durations.format(Duration.ZERO));
        assertEquals("9s", Durations.format(Duration.ofSeconds(9)));
        assertEquals("4m10s", Durations.format(Duration.ofSeconds(250)));
        assertEquals("5h12m", Durations.format(Duration.ofMinutes(312).plusSeconds(59)));
        assertEquals("2d3h", Durations.format(Duration.ofHours(51).plusMinutes(5)));
        assertEquals("3d", Durations.format(Duration.ofDays(3).plusMinutes(5)));
        assertEquals("0s", Durations.format(Duration.ofSeconds(-5)), "a clock skewed ahead shows no negative age");
    }

    @Test
    void whatIsShownReadsBackAsADuration() {
        assertEquals(Duration.ofSeconds(9), new Durations().convert(Durations.format(Duration.ofSeconds(9))));
        assertEquals(Duration.ofDays(7), new Durations().convert(Durations.format(Duration.ofDays(7))));
    }
}
