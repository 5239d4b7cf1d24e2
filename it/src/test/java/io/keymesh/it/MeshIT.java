package io.keymesh.it;

import static io.keymesh.it.testbed.Shell.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.Wait;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole system end to end on one machine ({@link Testbed}): etcd, authority replicas and
 * node daemons as real processes, hosts in network namespaces, traffic through wireguard-go.
 */
class MeshIT {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    /** A testbed with {@code names} joined and fully peered. */
    private List<Host> mesh(String... names) throws Exception {
        bed = Testbed.start(2);
        for (String name : names) {
            bed.addHost(name, false).startDaemon(true);
        }
        List<Host> hosts = bed.hosts();
        Wait.until(WAIT, "every host has every other as a peer and is ready", bed::logs,
                () -> hosts.stream().allMatch(h -> h.wgPeers().size() == hosts.size() - 1 && h.ready()));
        return hosts;
    }

    @Test
    void fourNodesJoinEveryPairPingsAndTheUnderlayCarriesOnlyWireGuard() throws Exception {
        List<Host> hosts = mesh("n1", "n2", "n3", "n4");
        for (Host from : hosts) {
            for (Host to : hosts) {
                if (from != to) {
                    // ping fails (and so does the test) when no reply comes back at all
                    assertTrue(from.ping(to.overlayAddress(), 2).contains("received"), from + " -> " + to);
                }
            }
        }

        // Capture the underlay between hosts while a marker crosses the overlay.
        Path capture = dir.resolve("underlay.pcap");
        byte[] marker = "keymesh-marker!!".getBytes(StandardCharsets.US_ASCII);
        try (AutoCloseable recording = bed.captureUnderlay(hosts.get(0), capture)) {
            hosts.get(0).ping(hosts.get(1).overlayAddress(), 3, "-i", "0.2", "-s", "200", "-p", HexFormat.of().formatHex(marker));
            // tcpdump may not have read the last packets from the kernel yet: wait for them before stopping it
            Wait.until(Duration.ofSeconds(20), "the capture holds six packets", bed::logs, () -> packets(capture).size() >= 6);
        }
        byte[] raw = Files.readAllBytes(capture);
        assertFalse(contains(raw, marker), "the marker crossed the underlay in the clear");
        List<String> packets = packets(capture);
        assertTrue(packets.size() >= 6, "three pings and their replies crossed the underlay: " + packets);
        for (String packet : packets) {
            assertTrue(packet.contains(" UDP") && packet.contains(".51820"), "not WireGuard: " + packet);
        }
    }

    private static List<String> packets(Path pcap) {
        return run("tcpdump", "-r", pcap.toString(), "-n", "-q").lines()
                .filter(l -> !l.isBlank() && !l.startsWith("reading from file")).toList();
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
