package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.TestbedExtension;
import io.keymesh.it.testbed.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A host cut off from etcd (every packet between it and etcd dropped, as in a network partition:
 * no reset, no error) keeps its peers while it is away, says it is not ready, and applies a
 * revocation made meanwhile, after a compaction past its revision, within 5 s of reaching etcd
 * again. One round per length in {@code keymesh.it.partitionSeconds} (default 40, 40 and 150 s:
 * longer than gRPC's keepalive, so the client's connections are declared dead and must be made
 * anew, and, at 150 s, long enough for gRPC's reconnection backoff to reach a minute).
 */
class PartitionIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final List<Duration> CUTS = java.util.Arrays.stream(System.getProperty("keymesh.it.partitionSeconds", "40,40,150")
            .split(",")).map(String::strip).map(s -> Duration.ofSeconds(Long.parseLong(s))).toList();
    private static final int ROUNDS = CUTS.size();

    @RegisterExtension
    final TestbedExtension testbed = new TestbedExtension();

    @Test
    void aHostCutOffFromEtcdAppliesARevocationMadeMeanwhileWithinFiveSecondsOfReachingItAgain() throws Exception {
        Testbed bed = testbed.start(1);
        List<String> names = new ArrayList<>(List.of("p0", "p1"));
        for (int round = 0; round < ROUNDS; round++) {
            names.add("v" + round);
        }
        List<Host> hosts = bed.joinHosts(WAIT, names.toArray(String[]::new));
        Host cut = hosts.get(0);
        Host witness = hosts.get(1);
        List<Long> tookMillis = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Host victim = hosts.get(2 + round);
            Duration cutFor = CUTS.get(round);
            String key = victim.publicKey();
            cut.cutOffFrom(Testbed.SWITCH_ADDRESS);
            long cutAt = System.nanoTime();
            Thread.sleep(10_000);
            bed.keymesh("revoke", victim.name);
            Wait.until(WAIT, "the witness removed " + victim, bed::logs, () -> !witness.wgPeers().contains(key));
            bed.etcdctl("compaction", bed.etcdctl("get", "/keymesh/v1/config", "-w", "json").replaceAll("(?s).*\"revision\":(\\d+).*", "$1"));
            // Away: fail-static (the revoked peer stays, nothing is torn down) and not ready once etcd was unreadable 30 s.
            long away = cutFor.toNanos() - (System.nanoTime() - cutAt);
            if (away > 0) {
                Thread.sleep(away / 1_000_000);
            }
            assertTrue(cut.wgPeers().contains(key), "a host cut off from etcd keeps its peers");
            String readyz = cut.readyz();
            assertTrue(readyz.startsWith("not ready: "), "cut off for " + cutFor.toSeconds() + " s and still " + readyz);

            cut.heal();
            long healed = System.nanoTime();
            Wait.until(WAIT, cut + " removed the revoked " + victim + " after the partition healed", bed::logs,
                    () -> !cut.wgPeers().contains(key));
            long took = (System.nanoTime() - healed) / 1_000_000;
            tookMillis.add(took);
            System.out.printf("PartitionIT round %d: cut off %d s (%s), revocation applied %d ms after the partition healed%n",
                    round + 1, cutFor.toSeconds(), readyz.strip(), took);
            Wait.until(WAIT, cut + " ready again", bed::logs, cut::ready);
        }
        assertTrue(tookMillis.stream().allMatch(t -> t <= BOUND.toMillis()),
                "every revocation applied within " + BOUND.toSeconds() + " s of healing: " + tookMillis + " ms");
    }
}
