package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.keyfile.KeyFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real programs, as an operator runs them, inside one network namespace made for this run:
 * an etcd member, {@code keymesh-authority}, and two {@code keymesh-daemon}s that create their
 * own wireguard-go interfaces (unique names, the socket directory is shared), join with token
 * files and peer. Then one daemon is SIGKILLed and started again: its interface stays up and
 * the restart changes nothing on it. Everything made here is removed afterwards, also on failure.
 */
class DaemonProgramIT {
    private static final Path BIN = Path.of("..", "ops", "bin").toAbsolutePath().normalize();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String namespace;
    private String suffix;
    private final List<Process> processes = new ArrayList<>();

    @BeforeEach
    void namespace() throws Exception {
        String missing = !"root".equals(System.getProperty("user.name")) ? "root"
                : !Files.isExecutable(Path.of("/usr/bin/wireguard-go")) ? "wireguard-go" : !Files.isExecutable(Path.of("/usr/bin/curl")) ? "curl" : null;
        if (missing != null) {
            if (System.getenv("CI") != null) {
                fail("this test needs " + missing);
            }
            Assumptions.abort("this test needs " + missing);
        }
        byte[] id = new byte[3];
        new SecureRandom().nextBytes(id);
        suffix = HexFormat.of().formatHex(id);
        namespace = "kmprog-" + suffix;
        run("ip", "netns", "add", namespace);
        run("ip", "-n", namespace, "link", "set", "lo", "up");
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (namespace == null) {
            return; // skipped before anything was made
        }
        // Each step on its own, so one failing step does not leave the rest behind.
        try {
            // Everything in the namespace, including the wireguard-go processes the daemons started.
            for (String pid : run("ip", "netns", "pids", namespace).split("\\s+")) {
                if (!pid.isBlank()) {
                    ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        } catch (Exception e) {
            System.err.println("cleanup: " + e.getMessage());
        }
        for (Process p : processes) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        for (String node : List.of("a", "b")) {
            Files.deleteIfExists(Path.of("/var/run/wireguard", iface(node) + ".sock"));
        }
        run("ip", "netns", "del", namespace);
    }

    private String iface(String node) {
        return "kmp" + node + suffix;
    }

    private Process start(String name, String... command) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        argv.addAll(List.of(command));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        processes.add(p);
        return p;
    }

    private String inNamespace(String... command) throws Exception {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        argv.addAll(List.of(command));
        return run(argv.toArray(String[]::new));
    }

    private String logs() throws IOException {
        StringBuilder out = new StringBuilder();
        try (var files = Files.list(dir)) {
            for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(log);
                out.append("\n--- ").append(log.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())));
            }
        }
        return out.toString();
    }

    private void await(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                if (check.ok()) {
                    return;
                }
            } catch (Exception e) {
                // not yet
            }
            if (System.nanoTime() > deadline) {
                Assertions.fail("timed out after " + WAIT.toSeconds() + " s waiting until " + what + logs());
            }
            Thread.sleep(100);
        }
    }

    @FunctionalInterface
    private interface Check {
        boolean ok() throws Exception;
    }

    private Process daemon(String node, int listenPort, int httpPort, boolean join) throws IOException {
        List<String> argv = new ArrayList<>(List.of(BIN.resolve("keymesh-daemon").toString(),
                "--endpoints", "http://127.0.0.1:2379", "--mesh", "it-mesh", "--node", "node-" + node,
                "--trust-key", Files.readString(dir.resolve("authority.pub")).strip(), "--state-dir", dir.resolve("state-" + node).toString(),
                "--interface", iface(node), "--implementation", "wireguard-go", "--endpoint", "192.0.2.1:" + listenPort,
                "--listen-port", Integer.toString(listenPort), "--http", "127.0.0.1:" + httpPort));
        if (join) {
            argv.addAll(List.of("--join-token-file", dir.resolve("token-" + node).toString()));
        }
        return start("daemon-" + node, argv.toArray(String[]::new));
    }

    private JsonNode link(String node) throws Exception {
        return JSON.readTree(inNamespace("ip", "-j", "address", "show", "dev", iface(node))).get(0);
    }

    private String metrics(int httpPort) throws Exception {
        return inNamespace("curl", "-sf", "http://127.0.0.1:" + httpPort + "/metrics");
    }

    private static long sum(String metrics, String family) {
        long total = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith(family + " ") || line.startsWith(family + "{")) {
                total += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    private Process etcd() throws IOException {
        return start("etcd", "etcd", "--name", "m", "--data-dir", dir.resolve("etcd").toString(),
                "--listen-client-urls", "http://127.0.0.1:2379", "--advertise-client-urls", "http://127.0.0.1:2379",
                "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                "--initial-cluster", "m=http://127.0.0.1:2380");
    }

    /** etcd, the authority and two joined daemons, a and b, each with its own interface, peered. */
    private void twoJoinedNodes() throws Exception {
        etcd();
        Ed25519PrivateKey authorityKey = Ed25519PrivateKey.generate();
        KeyFiles.writeSecret(dir.resolve("authority.key"), authorityKey.toBase64Secret(), false);
        Files.writeString(dir.resolve("authority.pub"), authorityKey.publicKey().base64());
        start("authority", BIN.resolve("keymesh-authority").toString(), "--endpoints", "http://127.0.0.1:2379", "--mesh", "it-mesh",
                "--signing-key", dir.resolve("authority.key").toString(), "--overlay-cidr", "198.18.0.0/16", "--http", "127.0.0.1:9470");
        await(() -> inNamespace("curl", "-sf", "http://127.0.0.1:9470/readyz").contains("ready"), "the authority is ready");
        for (String node : List.of("a", "b")) {
            inNamespace(BIN.resolve("keymesh").toString(), "--endpoints", "http://127.0.0.1:2379", "--mesh", "it-mesh",
                    "token", "create", "--node", "node-" + node, "--out", dir.resolve("token-" + node).toString());
        }

        daemon("a", 51820, 9471, true);
        daemon("b", 51821, 9472, true);
        await(() -> inNamespace("wg", "show", iface("a"), "peers").strip().equals(
                        WireGuardPrivateKey.parse(KeyFiles.readSecret(dir.resolve("state-b/wireguard.key"))).publicKey().base64()),
                "a has b as its peer");
        await(() -> inNamespace("wg", "show", iface("b"), "peers").strip().length() == 44, "b has a as its peer");
    }

    private Process daemonProcess(String node) {
        return processes.stream().filter(p -> p.isAlive() && p.info().commandLine().orElse("").contains("node-" + node))
                .findFirst().orElseThrow();
    }

    @Test
    void daemonsCreateTheirInterfacesJoinPeerAndSurviveAKillWithoutTouchingTheDevice() throws Exception {
        twoJoinedNodes();

        JsonNode a = link("a");
        assertEquals(1420, a.get("mtu").asInt(), "no default route in the namespace: 1500 minus 80");
        assertTrue(a.toString().contains("\"UP\""), a.toString());
        JsonNode address = a.get("addr_info").get(0);
        assertTrue(address.get("local").asText().startsWith("198.18."), address.toString());
        assertEquals(16, address.get("prefixlen").asInt(), "the overlay's length, so one route covers the mesh");
        assertEquals(WireGuardPrivateKey.parse(KeyFiles.readSecret(dir.resolve("state-a/wireguard.key"))).publicKey().base64(),
                inNamespace("wg", "show", iface("a"), "public-key").strip(), "the interface carries the persisted key");
        assertEquals("51820", inNamespace("wg", "show", iface("a"), "listen-port").strip());
        String before = inNamespace("wg", "show", iface("a"), "dump").lines().skip(1).sorted().toList().toString();

        Process daemonA = daemonProcess("a");
        // SIGKILL the daemon (and the java under ip netns exec): no goodbye, no cleanup.
        daemonA.descendants().forEach(ProcessHandle::destroyForcibly);
        daemonA.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        assertTrue(Files.exists(Path.of("/var/run/wireguard", iface("a") + ".sock")), "the interface outlives its daemon");

        long revision = JSON.readTree(inNamespace("curl", "-sf", "-X", "POST", "http://127.0.0.1:2379/v3/kv/range", "-d", "{\"key\":\"AA==\"}"))
                .get("header").get("revision").asLong();
        daemon("a", 51820, 9471, false);
        await(() -> inNamespace("curl", "-sf", "http://127.0.0.1:9471/readyz").contains("ready"), "the restarted daemon is ready");
        await(() -> metrics(9471).contains("keymesh_daemon_etcd_connected 1"), "the restarted daemon reads etcd");
        await(() -> sum(metrics(9471), "keymesh_daemon_applied_revision") >= revision
                && inNamespace("curl", "-sf", "http://127.0.0.1:9471/readyz").contains("ready"), "it has applied etcd's records");
        String after = metrics(9471);
        assertEquals(0, sum(after, "keymesh_daemon_peer_changes_total"), after);
        assertEquals(0, sum(after, "keymesh_daemon_device_settings_total"), after);
        assertEquals(before, inNamespace("wg", "show", iface("a"), "dump").lines().skip(1).sorted().toList().toString());
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    @Test
    void aRebootedHostWithoutEtcdComesBackFromItsPersistedKeysAndRecords() throws Exception {
        twoJoinedNodes();
        String key = inNamespace("wg", "show", iface("a"), "public-key").strip();
        String peers = inNamespace("wg", "show", iface("a"), "peers").strip();
        String epoch = JSON.readTree(inNamespace("curl", "-sf", "http://127.0.0.1:9471/peers")).get("peers").get(0).get("epoch").asText();

        // The reboot: the daemon dies, the interface and its wireguard-go are gone, and so is all of etcd.
        daemonProcess("a").destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        String wireguardGo = inNamespace("pgrep", "-f", "wireguard-go " + iface("a")).strip();
        for (String pid : wireguardGo.split("\\s+")) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
        }
        await(() -> {
            try {
                link("a");
                return false;
            } catch (IllegalStateException e) {
                return true; // ip: device does not exist
            }
        }, "a's interface is gone");
        Files.deleteIfExists(Path.of("/var/run/wireguard", iface("a") + ".sock")); // /var/run is a tmpfs: a reboot empties it
        processes.stream().filter(p -> p.info().commandLine().orElse("").contains("--name m")).forEach(Process::destroyForcibly);
        await(() -> run("ip", "netns", "pids", namespace).lines().noneMatch(pid -> ProcessHandle.of(Long.parseLong(pid.strip()))
                .flatMap(h -> h.info().command()).orElse("").endsWith("etcd")), "etcd is down");

        daemon("a", 51820, 9471, false); // no join token: it must not need one
        await(() -> inNamespace("curl", "-sf", "http://127.0.0.1:9471/readyz").contains("ready"), "a is ready without etcd");
        assertEquals(key, inNamespace("wg", "show", iface("a"), "public-key").strip(), "the same key");
        assertEquals(peers, inNamespace("wg", "show", iface("a"), "peers").strip(), "the same peers");
        assertTrue(link("a").toString().contains("\"UP\""), "the interface is up again");
        assertEquals(epoch, JSON.readTree(inNamespace("curl", "-sf", "http://127.0.0.1:9471/peers")).get("peers").get(0)
                .get("epoch").asText(), "the same records");
        assertTrue(metrics(9471).contains("keymesh_daemon_etcd_connected 0"), "and etcd really is down");
    }
}
