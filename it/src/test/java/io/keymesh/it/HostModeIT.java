package io.keymesh.it;

import static io.keymesh.it.testbed.Shell.in;
import static io.keymesh.it.testbed.Shell.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.MarkerEcho;
import io.keymesh.it.testbed.Shell;
import io.keymesh.it.testbed.TcpRelay;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.Wait;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Host mode in the testbed: traffic between node hosts' underlay addresses is encrypted (a marker
 * sent in it never appears in an underlay capture) over IPv4 and IPv6, exempt flows are not, a
 * node that serves etcd to its peers is re-imaged while they still hold its old key and everyone
 * converges, the MTU follows the underlay, and switching host mode off leaves the routing policy
 * exactly as it was.
 */
class HostModeIT {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final int MESSAGE = 1400;
    private static final int COUNT = 20;

    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void hostTrafficIsEncryptedExemptFlowsAreNotAndSwitchingOffRestoresThePolicy() throws Exception {
        bed = Testbed.start(1);
        Host a = bed.addHost("a", false, true);
        Host b = bed.addHost("b", false, true);
        a.startDaemon(true);
        b.startDaemon(true);
        awaitFullMesh(List.of(a, b));
        String before = policy(a);
        // a filters by strict reverse path (as many distributions do), b does not: host mode must work with both
        run(in(a.namespace, "sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.eth0.rp_filter=1"));

        for (Host h : List.of(a, b)) {
            h.daemonOptions("--host-traffic");
            h.killDaemon();
            h.startDaemon(false);
        }
        awaitRoutes(a, b.underlay, b.underlay6);
        awaitRoutes(b, a.underlay, a.underlay6);
        assertTrue(routeGet(a, b.underlay, "5001").contains("dev " + a.iface), routeGet(a, b.underlay, "5001"));
        assertTrue(routeGet(a, b.underlay6, "5001").contains("dev " + a.iface), routeGet(a, b.underlay6, "5001"));
        assertTrue(routeGet(a, b.underlay, "6443").contains("dev eth0"), "the Kubernetes API port is exempt: " + routeGet(a, b.underlay, "6443"));
        assertTrue(routeGet(a, b.underlay, "2379").contains("dev eth0"), "etcd's port is exempt: " + routeGet(a, b.underlay, "2379"));
        assertTrue(run(in(a.namespace, "nft", "list", "table", "inet", "keymesh")).contains("oifname \"" + a.iface + "\""),
                "forwarded TCP into the tunnel has its MSS clamped");

        bed.serverIn(b, "echo-4", MarkerEcho.class, "serve", b.underlay, "5001", Integer.toString(MESSAGE));
        bed.serverIn(b, "echo-6", MarkerEcho.class, "serve", b.underlay6, "5001", Integer.toString(MESSAGE));
        bed.serverIn(b, "echo-api", MarkerEcho.class, "serve", b.underlay, "6443", Integer.toString(MESSAGE));
        String over4 = marker();
        String over6 = marker();
        String exempt = marker();
        Path pcap = bed.dir().resolve("a-underlay.pcap");
        try (AutoCloseable capture = bed.captureUnderlay(a, pcap)) {
            send(a, b.underlay, 5001, over4);
            send(a, b.underlay6, 5001, over6);
            send(a, b.underlay, 6443, exempt);
            // tcpdump may not have read the last packets from the kernel yet: wait for them before stopping it
            awaitPackets(pcap, "udp port 51820", 4 * COUNT);
            awaitPackets(pcap, "tcp port 6443", 2 * COUNT);
        }
        byte[] wire = Files.readAllBytes(pcap);
        for (String marker : List.of(over4, over6)) {
            assertFalse(contains(wire, marker), "host traffic crossed the underlay in the clear");
            assertFalse(contains(wire, reversed(marker)), "the answer crossed the underlay in the clear");
        }
        assertTrue(contains(wire, exempt) && contains(wire, reversed(exempt)),
                "the exempt flow (tcp/6443) crossed the underlay in the clear both ways, not through the tunnel");
        assertTrue(Files.readString(bed.dir().resolve("echo-4.log")).contains("connection from " + a.underlay + " port"),
                "host traffic comes from the host's underlay address, not its overlay one");
        assertTrue(Files.readString(bed.dir().resolve("echo-6.log")).contains("connection from " + a.underlay6 + " port"), "IPv6 too");
        assertEquals(0, packets(pcap, "(ip and ip[6:2] & 0x3fff != 0) or (ip6 and ip6[6] == 44)"),
                "1,400-byte messages crossed without a single IP fragment");

        int mtu = a.link().path("mtu").asInt();
        assertEquals(1500 - 80, mtu, "the interface MTU is the underlay's minus 80");
        a.ping(b.underlay, 2, "-M", "do", "-s", Integer.toString(mtu - 28)); // the largest unfragmented packet fits the tunnel
        run(in(a.namespace, "ip", "link", "set", "dev", "eth0", "mtu", "1400"));
        Wait.until(WAIT, a.iface + " follows the underlay MTU down to 1320", bed::logs, () -> a.link().path("mtu").asInt() == 1320);
        run(in(a.namespace, "ip", "link", "set", "dev", "eth0", "mtu", "1500"));
        Wait.until(WAIT, a.iface + " follows the underlay MTU back to 1420", bed::logs, () -> a.link().path("mtu").asInt() == 1420);

        a.daemonOptions("--host-traffic=false");
        a.killDaemon();
        a.startDaemon(false);
        Wait.until(WAIT, "a's routing policy is back to what it was before host mode", bed::logs, () -> policy(a).equals(before));
        assertEquals(before, policy(a));
        assertEquals("off", run(in(a.namespace, "wg", "show", a.iface, "fwmark")).strip(), "keymesh's firewall mark is gone too");
        a.ping(b.overlayAddress(), 1);

        // b still runs host mode: what it sends a arrives through the tunnel from b's underlay
        // address, which a, filtering by strict reverse path and no longer in host mode, accepts.
        assertEncrypted(b, a, false, "b's host traffic to a is still encrypted (a's answers are not: a is out of host mode)");
    }

    @Test
    void aReimagedHostThatServesEtcdToItsPeersIsReachedInTheClearAndEveryoneConverges() throws Exception {
        bed = Testbed.start(1);
        Host n1 = bed.addHost("n1", false);
        Host n2 = bed.addHost("n2", false);
        Host n3 = bed.addHost("n3", false);
        // n3 serves etcd (a relay to the switch's member): n1 and n2 reach etcd only at n3's underlay address.
        bed.serverIn(n3, "etcd-relay", TcpRelay.class, n3.underlay, "2379", Testbed.SWITCH_ADDRESS, "2379");
        List<Host> hosts = List.of(n1, n2, n3);
        for (Host h : hosts) {
            if (h != n3) {
                h.etcdEndpoints("http://" + n3.underlay + ":2379");
            }
            h.daemonOptions("--host-traffic");
            h.startDaemon(true);
        }
        awaitFullMesh(hosts);
        awaitRoutes(n1, n3.underlay);
        awaitRoutes(n2, n3.underlay);
        String oldKey = n3.publicKey();

        // Re-imaged: new keys, a new interface; n1 and n2 still have the old key, and host mode
        // sends everything they send to n3 into a tunnel n3 can no longer open. Only the
        // exemption lets them read n3's new record from etcd, which n3 serves.
        n3.killDaemon();
        n3.removeInterface();
        try (var files = Files.list(n3.stateDirectory())) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Files.deleteIfExists(n3.tokenFile());
        String identity = run(in(n3.namespace, Testbed.BIN.resolve("keymesh-daemon").toString(), "--print-identity", "--state-dir",
                n3.stateDirectory().toString())).strip();
        bed.keymesh("reprovision", "n3", "--identity", identity, "--out", n3.tokenFile().toString());
        Path pcap = bed.dir().resolve("n1-underlay.pcap");
        try (AutoCloseable capture = bed.captureUnderlay(n1, pcap)) {
            n3.startDaemon(true);
            awaitFullMesh(hosts);
        }
        assertNotEquals(oldKey, n3.publicKey());
        assertTrue(packets(pcap, "tcp and host " + n3.underlay + " and port 2379") > 0,
                "n1 read etcd from n3 in the clear while it held n3's old key");
        awaitRoutes(n1, n3.underlay);
        assertEncrypted(n1, n3, true, "host traffic to the re-imaged host and back is encrypted again");
    }

    private void awaitFullMesh(List<Host> hosts) throws Exception {
        bed.awaitFullMesh(hosts, WAIT);
    }

    /**
     * A marked TCP exchange from {@code from} to {@code to}'s underlay address crosses {@code from}'s
     * switch port encrypted: what {@code from} sends, and with {@code answers} also what comes back.
     */
    private void assertEncrypted(Host from, Host to, boolean answers, String what) throws Exception {
        bed.serverIn(to, "echo-" + to, MarkerEcho.class, "serve", to.underlay, "5001", Integer.toString(MESSAGE));
        String marker = marker();
        Path pcap = bed.dir().resolve(from + "-to-" + to + ".pcap");
        try (AutoCloseable capture = bed.captureUnderlay(from, pcap)) {
            send(from, to.underlay, 5001, marker);
            awaitPackets(pcap, "udp port 51820", 2 * COUNT);
        }
        byte[] wire = Files.readAllBytes(pcap);
        assertFalse(contains(wire, marker) || answers && contains(wire, reversed(marker)), what);
    }

    /** Waits until {@code host} routes each address through its WireGuard interface in keymesh's table. */
    private void awaitRoutes(Host host, String... addresses) throws InterruptedException {
        for (String address : addresses) {
            Wait.until(WAIT, host + " routes " + address + " through " + host.iface, bed::logs,
                    () -> routeGet(host, address, "5001").contains("dev " + host.iface));
        }
    }

    private static String routeGet(Host host, String address, String port) {
        return run(in(host.namespace, "ip", "route", "get", address, "ipproto", "tcp", "dport", port));
    }

    /** The host's whole routing policy: rules and routes of every table, both families, and the nftables ruleset. */
    private static String policy(Host host) {
        return String.join("\n--\n", run(in(host.namespace, "ip", "rule", "show")), run(in(host.namespace, "ip", "-6", "rule", "show")),
                run(in(host.namespace, "ip", "route", "show", "table", "all")),
                run(in(host.namespace, "ip", "-6", "route", "show", "table", "all")),
                Shell.result(in(host.namespace, "nft", "list", "ruleset")).output());
    }

    private void send(Host from, String address, int port, String marker) throws Exception {
        Process client = bed.javaIn(from, "send-" + port + "-" + marker, MarkerEcho.class, "send", address, Integer.toString(port),
                Integer.toString(MESSAGE), Integer.toString(COUNT), marker);
        assertTrue(client.waitFor(90, TimeUnit.SECONDS), "the client finished");
        assertEquals(0, client.exitValue(), "every message to " + address + ":" + port + " came back intact" + bed.logs());
    }

    private static String marker() {
        byte[] raw = new byte[8];
        new SecureRandom().nextBytes(raw);
        return "KMMARK" + HexFormat.of().formatHex(raw);
    }

    private static String reversed(String marker) {
        return new StringBuilder(marker).reverse().toString();
    }

    private static boolean contains(byte[] haystack, String needle) {
        return MeshIT.contains(haystack, needle.getBytes(StandardCharsets.US_ASCII));
    }

    /** Waits until {@code pcap} holds at least {@code count} packets matching {@code filter}. */
    private void awaitPackets(Path pcap, String filter, int count) throws InterruptedException {
        Wait.until(Duration.ofSeconds(30), count + " packets matching '" + filter + "' in the capture", bed::logs,
                () -> packets(pcap, filter) >= count);
    }

    /** The packets in {@code pcap} that match a tcpdump filter. */
    private static long packets(Path pcap, String filter) {
        Shell.Result result = Shell.result("tcpdump", "-r", pcap.toString(), "-n", filter);
        return result.output().lines().filter(l -> !l.isEmpty() && Character.isDigit(l.charAt(0))).count();
    }
}
