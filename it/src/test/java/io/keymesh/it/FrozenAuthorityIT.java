package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.TestbedExtension;
import io.keymesh.it.testbed.Wait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The leading authority replica frozen (SIGSTOP) for {@code keymesh.it.freezeSeconds} (default 40)
 * while the standby takes over, revokes a node, takes a flood of junk under {@code nodes/} and a
 * compaction past the frozen replica's revision. Once resumed, the frozen replica must say ready
 * only when its copy of the mesh holds everything written meanwhile, within 5 s, and when it
 * leads again it must decide on that copy: the revoked node stays revoked and a new host gets an
 * address nobody has. Several rounds.
 */
class FrozenAuthorityIT {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration BOUND = Duration.ofSeconds(5);
    private static final int ROUNDS = Integer.getInteger("keymesh.it.freezeRounds", 2);
    private static final Duration FREEZE = Duration.ofSeconds(Integer.getInteger("keymesh.it.freezeSeconds", 40));
    private static final int JUNK = 100;

    @RegisterExtension
    final TestbedExtension testbed = new TestbedExtension();

    @Test
    void aFrozenLeaderResumesAfterACompactionFollowsEverythingWithinFiveSecondsAndDecidesOnIt() throws Exception {
        Testbed bed = testbed.start(2);
        List<String> names = new ArrayList<>(List.of("n0"));
        for (int round = 0; round < ROUNDS; round++) {
            names.add("v" + round);
        }
        List<Host> hosts = bed.joinHosts(WAIT, names.toArray(String[]::new));
        List<Long> caughtUpMillis = new ArrayList<>();
        List<Host> lates = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            Host victim = hosts.get(1 + round);
            String frozen = bed.awaitLeader(null, WAIT);
            bed.freezeAuthority(frozen);
            long frozenAt = System.nanoTime();
            String standby = bed.awaitLeader(frozen, WAIT);
            bed.keymesh("revoke", victim.name); // answered by the standby, now leading
            for (int i = 0; i < JUNK; i++) {
                bed.etcdctl("put", "/keymesh/v1/nodes/junk-" + round + "-" + i, "x".repeat(8_000));
            }
            double unverified = bed.authorityMetric(standby, "keymesh_authority_unverified_values");
            assertEquals((round + 1) * JUNK, unverified, "the standby counts every junk value as unverified");
            bed.etcdctl("compaction", bed.etcdctl("get", "/keymesh/v1/config", "-w", "json").replaceAll("(?s).*\"revision\":(\\d+).*", "$1"));
            long left = FREEZE.toNanos() - (System.nanoTime() - frozenAt);
            if (left > 0) {
                Thread.sleep(left / 1_000_000);
            }

            bed.resumeAuthority(frozen);
            long resumed = System.nanoTime();
            // Ready only with everything written meanwhile in its copy: the junk is in its count of unverified values.
            Set<String> seen = new HashSet<>();
            while (true) {
                assertTrue(System.nanoTime() - resumed < WAIT.toNanos(), frozen + " not ready " + WAIT.toSeconds() + " s after resuming: "
                        + seen + "\n" + bed.logs());
                String readyz = bed.authorityReadyz(frozen);
                seen.add(readyz.strip());
                if (readyz.startsWith("ready")) {
                    double count = bed.authorityMetric(frozen, "keymesh_authority_unverified_values");
                    assertEquals(unverified, count, frozen + " said ready before its copy had what was written while it was frozen");
                    break;
                }
                Thread.sleep(50);
            }
            long took = (System.nanoTime() - resumed) / 1_000_000;
            caughtUpMillis.add(took);
            System.out.printf("FrozenAuthorityIT round %d: frozen %d s, ready with everything %d ms after resuming; answers meanwhile: %s%n",
                    round + 1, FREEZE.toSeconds(), took, seen);
            assertEquals(standby, bed.currentLeader(null), "the resumed replica does not lead while the standby does");

            // It leads again, on its caught-up copy: the revoked node stays revoked, a new host gets a fresh address.
            bed.killAuthority(standby);
            assertEquals(frozen, bed.awaitLeader(standby, WAIT));
            Host late = bed.addHost("late" + round, false);
            late.createToken();
            late.startDaemon(true);
            lates.add(late);
            List<Host> active = new ArrayList<>(hosts.subList(2 + round, hosts.size()));
            active.add(hosts.get(0));
            active.addAll(lates);
            Wait.until(WAIT, late + " joined and peers with every active host", bed::logs,
                    () -> late.wgPeers().size() == active.size() - 1 && late.ready());
            assertTrue(!late.wgPeers().contains(victim.publicKey()), "the revoked " + victim + " stays revoked");
            Set<String> addresses = new HashSet<>();
            for (Host h : active) {
                assertTrue(addresses.add(h.overlayAddress()), "two hosts share overlay address " + h.overlayAddress());
            }
            bed.startAuthority(standby);
        }
        assertTrue(caughtUpMillis.stream().allMatch(t -> t <= BOUND.toMillis()),
                "every resumed replica followed etcd within " + BOUND.toSeconds() + " s: " + caughtUpMillis + " ms");
        assertEquals(0, hosts.get(0).metricSeries("keymesh_daemon_refused_records_total{reason=\"equivocation\"}"),
                "no daemon saw two records signed for one epoch");
    }
}
