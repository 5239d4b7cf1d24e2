package io.keymesh.testing.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
    void aMissingBinaryAbortsWithTheNameOfThePackageToInstall() {
        EtcdUnavailableException e = assertThrows(EtcdUnavailableException.class,
                () -> LocalEtcdCluster.start(1, Map.of("KEYMESH_ETCD_BIN", "/nonexistent/etcd")));
        assertTrue(e.getMessage().contains("install the Debian package etcd-server"), e.getMessage());
    }
}
