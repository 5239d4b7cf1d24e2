package io.keymesh.it;

import static io.keymesh.it.testbed.Shell.in;
import static io.keymesh.it.testbed.Shell.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.RoutingPolicyProbe;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.Throughput;
import io.keymesh.it.testbed.Wait;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What host mode costs, in the testbed: programming the routing policy for 1,000 peers with the
 * daemon's own code (one {@code ip -batch} per family), and TCP between two hosts' underlay
 * addresses with host mode off (the veth in the clear) and on (through wireguard-go).
 * Run: {@code mvn -B verify -Pbench -pl it -am -Dit.test=HostModeBenchmark}.
 */
class HostModeBenchmark {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int PEERS = 1000;
    private static final int ROUNDS = 3;
    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void routingPolicyForAThousandPeersAndTcpBetweenHostsWithHostModeOffAndOn() throws Exception {
        bed = Testbed.start(1);
        List<Host> hosts = bed.joinHosts(WAIT, "a", "b");
        Host a = hosts.get(0);
        Host b = hosts.get(1);
        Host probe = bed.addHost("probe", false); // a namespace of its own, no daemon
        for (int round = 0; round < ROUNDS; round++) {
            String name = "policy-" + round;
            Process p = bed.javaIn(probe, name, RoutingPolicyProbe.class, "eth0", Integer.toString(PEERS));
            assertTrue(p.waitFor(5, TimeUnit.MINUTES));
            String out = Files.readString(bed.dir().resolve(name + ".log"));
            assertEquals(0, p.exitValue(), out);
            System.out.println("HostModeBenchmark: routing policy with " + PEERS + " peers (ms), round " + round + ": "
                    + out.strip().replace('\n', ','));
        }

        bed.serverIn(b, "tp-serve", Throughput.class, "serve", b.underlay, "5201");
        String off = measure(a, b);
        for (Host h : hosts) {
            h.daemonOptions("--host-traffic");
            h.killDaemon();
            h.startDaemon(false);
        }
        for (Host h : hosts) {
            Host other = h == a ? b : a;
            Wait.until(WAIT, h + " routes " + other.underlay + " through " + h.iface, bed::logs, () -> run(in(h.namespace, "ip", "route",
                    "get", other.underlay, "ipproto", "tcp", "dport", "5201")).contains("dev " + h.iface));
        }
        String on = measure(a, b);
        System.out.println("HostModeBenchmark: TCP a -> b underlay, host mode off: " + off);
        System.out.println("HostModeBenchmark: TCP a -> b underlay, host mode on:  " + on);
    }

    /** Bulk MB/s (median of three 5 s runs) and 64-byte round trips (p50, p99 µs). */
    private String measure(Host a, Host b) throws Exception {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < ROUNDS; i++) {
            out.append(tool(a, "bulk-" + System.nanoTime(), "bulk", b.underlay, "5201", "5")).append("; ");
        }
        out.append(tool(a, "rtt-" + System.nanoTime(), "rtt", b.underlay, "5201", "20000"));
        return out.toString();
    }

    private String tool(Host from, String name, String... args) throws Exception {
        Process p = bed.javaIn(from, name, Throughput.class, args);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES));
        String out = Files.readString(bed.dir().resolve(name + ".log")).strip();
        assertEquals(0, p.exitValue(), out);
        return out;
    }
}
