package io.keymesh.runtime;

import static io.keymesh.runtime.YamlConfig.first;

import io.keymesh.runtime.etcd.PrefixWatch;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * How the daemon and the authority check that their etcd watches still follow etcd, as a picocli
 * mixin: a progress request every {@code --watch-progress-interval} seconds, and a new snapshot
 * when a watch answers nothing within {@code --watch-answer-timeout} seconds
 * ({@link PrefixWatch.Liveness}).
 */
public final class WatchOptions {
    @Option(names = "--watch-progress-interval", paramLabel = "SECONDS",
            description = "ask etcd for progress on each watch this often (default 10)")
    Integer progressSeconds;

    @Option(names = "--watch-answer-timeout", paramLabel = "SECONDS",
            description = "read the mesh again when a watch answers nothing this long after a progress request (default 3)")
    Integer answerSeconds;

    /** The watch settings a configuration file can carry; the programs' config records implement it. */
    public interface FileSettings {
        Integer watchProgressIntervalSeconds();

        Integer watchAnswerTimeoutSeconds();
    }

    /** The flags over the file's settings over the defaults. */
    public PrefixWatch.Liveness liveness(FileSettings file) {
        int progress = first(progressSeconds, file.watchProgressIntervalSeconds(),
                (int) PrefixWatch.Liveness.DEFAULT.progressEvery().toSeconds());
        int answer = first(answerSeconds, file.watchAnswerTimeoutSeconds(), (int) PrefixWatch.Liveness.DEFAULT.answerWithin().toSeconds());
        if (answer < 1 || progress <= answer) {
            throw new IllegalArgumentException("watchAnswerTimeoutSeconds (--watch-answer-timeout) must be at least 1 and below "
                    + "watchProgressIntervalSeconds (--watch-progress-interval); got " + answer + " and " + progress);
        }
        return new PrefixWatch.Liveness(Duration.ofSeconds(progress), Duration.ofSeconds(answer));
    }
}
