package io.keymesh.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.runtime.etcd.PrefixWatch;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WatchOptionsTest {
    private record File(Integer watchProgressIntervalSeconds, Integer watchAnswerTimeoutSeconds) implements WatchOptions.FileSettings {
    }

    @CommandLine.Command(name = "test")
    static final class Program {
        @CommandLine.Mixin
        WatchOptions watch = new WatchOptions();
    }

    private static WatchOptions parse(String... args) {
        Program program = new Program();
        new CommandLine(program).parseArgs(args);
        return program.watch;
    }

    @Test
    void defaultsThenTheFileThenTheFlags() {
        assertEquals(PrefixWatch.Liveness.DEFAULT, parse().liveness(new File(null, null)));
        assertEquals(new PrefixWatch.Liveness(Duration.ofSeconds(30), Duration.ofSeconds(5)), parse().liveness(new File(30, 5)));
        assertEquals(new PrefixWatch.Liveness(Duration.ofSeconds(20), Duration.ofSeconds(5)),
                parse("--watch-progress-interval", "20").liveness(new File(30, 5)));
    }

    @Test
    void aTimeoutThatIsNotBelowTheIntervalOrUnderASecondIsOneClearError() {
        for (WatchOptions options : new WatchOptions[] {parse("--watch-answer-timeout", "10"), parse("--watch-answer-timeout", "0")}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> options.liveness(new File(null, null)));
            assertTrue(e.getMessage().contains("--watch-answer-timeout") && e.getMessage().contains("--watch-progress-interval"), e.getMessage());
        }
    }
}
