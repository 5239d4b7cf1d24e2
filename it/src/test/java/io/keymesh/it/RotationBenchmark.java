package io.keymesh.it;

import static io.keymesh.it.RotationIT.jsonLine;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.Wait;
import io.keymesh.schema.json.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The traffic pause a key rotation causes, and the time to roll the whole testbed mesh, in the
 * 4-node testbed with a TCP session and a 10 ms ping from n1 to n2 (RotationIT's traffic).
 * Rotations alternate between the two ends of the pair (the rotating node and its peer switch
 * keys at about the same time; which one is first varies). Prints the figures for BENCHMARKS.md.
 * Run: {@code mvn -B verify -Pbench -pl it -am -Dit.test=RotationBenchmark}.
 */
class RotationBenchmark {
    private static final int ROTATIONS = 20;
    private static final int ROLLOUTS = 5;
    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void longestPausePerRotationAndWholeMeshRollTime() throws Exception {
        bed = Testbed.start(2);
        List<Host> hosts = bed.joinHosts(Duration.ofSeconds(90), "n1", "n2", "n3", "n4");
        List<Long> gaps = new ArrayList<>();
        List<Double> converge = new ArrayList<>();
        List<Long> rolls = new ArrayList<>();
        List<Long> rollGaps = new ArrayList<>();
        try (RotationIT.Traffic traffic = new RotationIT.Traffic(bed, hosts.get(0), hosts.get(1))) {
            Thread.sleep(1_000);
            for (int i = 0; i < ROTATIONS; i++) {
                String node = i % 2 == 0 ? "n1" : "n2";
                long started = System.currentTimeMillis();
                String out = bed.keymesh("rotate", node, "-o", "json");
                converge.add(Json.mapper().readTree(jsonLine(out)).get("convergeSeconds").asDouble());
                Thread.sleep(2_000);
                gaps.add(traffic.longestGap(started, System.currentTimeMillis()));
            }
            for (int i = 0; i < ROLLOUTS; i++) {
                long started = System.currentTimeMillis();
                String out = bed.keymesh("rollout", "--all", "-o", "json");
                assertEquals("done", Json.mapper().readTree(jsonLine(out)).get("status").asText());
                rolls.add(Math.round(Json.mapper().readTree(jsonLine(out)).get("elapsedSeconds").asDouble() * 1000));
                Thread.sleep(2_000);
                rollGaps.add(traffic.longestGap(started, System.currentTimeMillis()));
            }
            String end = traffic.finish();
            assertTrue(end.startsWith("end "), end);
            System.out.println("RotationBenchmark: TCP session after " + ROTATIONS + " rotations and " + ROLLOUTS + " rollouts: " + end);
        }
        System.out.printf("RotationBenchmark: longest pause per rotation (ms, ping 10 ms + TCP echo): %s; median %d, max %d%n",
                gaps, sorted(gaps).get(gaps.size() / 2), sorted(gaps).get(gaps.size() - 1));
        System.out.printf("RotationBenchmark: rotate: commit to every live daemon applied (s, from the request): %s%n", converge);
        System.out.printf("RotationBenchmark: rollout --all of 4 nodes (ms, as the rollout reports): %s; median %d; longest pause %s%n",
                rolls, sorted(rolls).get(rolls.size() / 2), rollGaps);
    }

    private static List<Long> sorted(List<Long> values) {
        return values.stream().sorted().toList();
    }
}
