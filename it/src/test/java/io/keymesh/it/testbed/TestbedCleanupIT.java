package io.keymesh.it.testbed;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** What a testbed whose JVM was killed left behind is removed by the next one. */
class TestbedCleanupIT {
    @Test
    void whatAKilledRunLeftIsRemovedByTheNext() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            org.junit.jupiter.api.Assumptions.abort("needs root for network namespaces");
        }
        byte[] raw = new byte[3];
        new SecureRandom().nextBytes(raw);
        String id = HexFormat.of().formatHex(raw);
        // A run whose JVM is gone: its owner is a process that has exited.
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path dir = Files.createTempDirectory("keymesh-testbed-" + id + "-");
        Files.writeString(dir.resolve("owner"), Long.toString(gone.pid()));
        String namespace = "kmh1-" + id;
        Shell.run("ip", "netns", "add", namespace);
        Process sleeper = new ProcessBuilder(Shell.in(namespace, "sleep", "600")).start();
        Files.createDirectories(Path.of("/var/run/wireguard"));
        Path socket = Path.of("/var/run/wireguard", "kw" + id + "1.sock");
        Files.writeString(socket, "");
        try {
            Testbed.reapOrphans();

            assertFalse(Shell.run("ip", "netns", "list").contains(namespace), "the namespace is gone");
            assertTrue(sleeper.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "its processes are gone");
            assertFalse(Files.exists(socket), "the socket is gone");
            assertFalse(Files.exists(dir), "the run's directory is gone");
        } finally {
            sleeper.destroyForcibly();
            Shell.result("ip", "netns", "del", namespace);
            Files.deleteIfExists(socket);
        }
    }
}
