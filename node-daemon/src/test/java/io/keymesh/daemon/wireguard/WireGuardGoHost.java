package io.keymesh.daemon.wireguard;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A test host: a network namespace of its own with a wireguard-go interface in it, both with
 * unique names (the control socket directory is shared by all namespaces). {@link #close()}
 * stops wireguard-go and deletes the namespace, also after a failed test.
 */
public final class WireGuardGoHost implements AutoCloseable {
    public final String namespace;
    public final String iface;
    private final Process wireguardGo;

    private WireGuardGoHost(String namespace, String iface, Process wireguardGo) {
        this.namespace = namespace;
        this.iface = iface;
        this.wireguardGo = wireguardGo;
    }

    /** Needs root, iproute2 and wireguard-go: a failure in CI, where ops/setup.sh provides them; skipped elsewhere. */
    public static WireGuardGoHost start() throws Exception {
        String missing = !"root".equals(System.getProperty("user.name")) ? "root"
                : !Files.isExecutable(Path.of("/usr/bin/wireguard-go")) ? "wireguard-go (Debian package wireguard-go)"
                : !Files.isExecutable(Path.of("/usr/bin/wg")) ? "wg (Debian package wireguard-tools)" : null;
        if (missing != null) {
            if (System.getenv("CI") != null) {
                Assertions.fail("this test needs " + missing);
            }
            Assumptions.abort("this test needs " + missing);
        }
        byte[] id = new byte[3];
        new SecureRandom().nextBytes(id);
        String suffix = HexFormat.of().formatHex(id);
        String namespace = "kmtest-" + suffix;
        String iface = "kmw" + suffix; // interface names are at most 15 characters
        run("ip", "netns", "add", namespace);
        Process process;
        try {
            process = new ProcessBuilder("ip", "netns", "exec", namespace, "wireguard-go", "-f", iface)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        } catch (IOException e) {
            run("ip", "netns", "del", namespace);
            throw e;
        }
        WireGuardGoHost host = new WireGuardGoHost(namespace, iface, process);
        Path socket = UapiDevice.SOCKET_DIRECTORY.resolve(iface + ".sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!Files.exists(socket) && System.nanoTime() < deadline && process.isAlive()) {
            Thread.sleep(20);
        }
        if (!Files.exists(socket)) {
            host.close();
            Assertions.fail("wireguard-go did not create " + socket);
        }
        return host;
    }

    /** {@code wg show <if> dump}: the real tool's view of the device, one line per peer after the first. */
    public List<String[]> wgDump() throws Exception {
        List<String[]> rows = new ArrayList<>();
        for (String line : run("ip", "netns", "exec", namespace, "wg", "show", iface, "dump").split("\n")) {
            if (!line.isBlank()) {
                rows.add(line.split("\t"));
            }
        }
        return rows;
    }

    public String wg(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", namespace, "wg"));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    public static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        wireguardGo.destroy();
        try {
            if (!wireguardGo.waitFor(10, TimeUnit.SECONDS)) {
                wireguardGo.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // ip netns exec forks: make sure the wireguard-go it started is gone too.
        ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains("wireguard-go -f " + iface)).orElse(false))
                .forEach(ProcessHandle::destroyForcibly);
        Files.deleteIfExists(UapiDevice.SOCKET_DIRECTORY.resolve(iface + ".sock"));
        try {
            run("ip", "netns", "del", namespace);
        } catch (Exception e) {
            throw new IOException("cannot delete network namespace " + namespace, e);
        }
    }
}
