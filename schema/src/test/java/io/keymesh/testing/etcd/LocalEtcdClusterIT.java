package io.keymesh.testing.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The fixture itself, against the real etcd binary: it starts, serves, and leaves nothing behind. */
class LocalEtcdClusterIT {

    @Test
    void aSingleMemberServesAndCloseRemovesEveryProcessAndDirectory() throws Exception {
        LocalEtcdCluster cluster = LocalEtcdCluster.start(1);
        List<Long> pids;
        try (Client client = Client.builder().endpoints(cluster.clientEndpoints().toArray(java.net.URI[]::new)).build()) {
            ByteSequence key = ByteSequence.from("/keymesh-test/fixture", StandardCharsets.UTF_8);
            client.getKVClient().put(key, ByteSequence.from("v", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            assertEquals("v", client.getKVClient().get(key).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()
                    .toString(StandardCharsets.UTF_8));
            pids = cluster.memberPids();
            assertEquals(1, pids.size());
            assertTrue(ProcessHandle.of(pids.get(0)).map(ProcessHandle::isAlive).orElse(false));
        } finally {
            cluster.close();
        }
        assertFalse(ProcessHandle.of(pids.get(0)).map(ProcessHandle::isAlive).orElse(false), "etcd process left running");
        assertFalse(Files.exists(cluster.dataRoot()), "data directory left behind: " + cluster.dataRoot());
    }

    @Test
    void threeMembersStopAndRestartAndCloseRemovesThemAll() throws Exception {
        LocalEtcdCluster cluster = LocalEtcdCluster.start(3);
        List<Long> pids = new java.util.ArrayList<>();
        try {
            pids.addAll(cluster.memberPids());
            cluster.stopMember(2);
            assertFalse(cluster.isRunning(2), "SIGTERM stops the member");
            assertFalse(ProcessHandle.of(pids.get(2)).map(ProcessHandle::isAlive).orElse(false));
            cluster.startMember(2);
            assertTrue(cluster.isRunning(2));
            try (Client pinned = Client.builder().endpoints(cluster.clientEndpoints().get(2)).build()) {
                ByteSequence key = ByteSequence.from("/keymesh-test/restarted", StandardCharsets.UTF_8);
                pinned.getKVClient().put(key, ByteSequence.from("v", StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
            }
            pids.add(cluster.memberPids().get(2));
            assertEquals(4, new java.util.HashSet<>(pids).size(), "three members plus the restarted one");
        } finally {
            cluster.close();
        }
        for (long pid : pids) {
            assertFalse(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), "etcd process " + pid + " left running");
        }
        assertFalse(Files.exists(cluster.dataRoot()));
    }

    @Test
    void directoriesOfDeadOwnersAreReapedAndLiveOnesKept() throws Exception {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Path orphan = Files.createTempDirectory(tmp, LocalEtcdCluster.DATA_DIR_MARKER);
        // A pid that cannot be running: above the kernel's pid_max.
        Files.writeString(orphan.resolve("owner"), "4194305 2026-01-01T00:00:00Z");
        Path live = Files.createTempDirectory(tmp, LocalEtcdCluster.DATA_DIR_MARKER);
        ProcessHandle self = ProcessHandle.current();
        Files.writeString(live.resolve("owner"), self.pid() + " " + self.info().startInstant().orElseThrow());
        try {
            LocalEtcdCluster.start(1).close();
            assertFalse(Files.exists(orphan), "a directory whose owner is gone is removed");
            assertTrue(Files.exists(live), "a directory of a live JVM is left alone");
        } finally {
            Files.deleteIfExists(live.resolve("owner"));
            Files.deleteIfExists(live);
            Files.deleteIfExists(orphan.resolve("owner"));
            Files.deleteIfExists(orphan);
        }
    }

    @Test
    void aMissingBinaryAbortsWithTheNameOfThePackageToInstall() {
        EtcdUnavailableException e = assertThrows(EtcdUnavailableException.class,
                () -> LocalEtcdCluster.start(1, Map.of("KEYMESH_ETCD_BIN", "/nonexistent/etcd")));
        assertTrue(e.getMessage().contains("install the Debian package etcd-server"), e.getMessage());
    }
}
