package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.maintenance.StatusResponse;
import io.etcd.jetcd.options.WatchOption;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.testing.Samples;
import io.keymesh.testing.etcd.EtcdExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A 3-member etcd from the fixture, exercised the way keymesh will use it: signed values that
 * etcdctl can read, a killed raft leader, a paused member, and a watch from a compacted revision.
 */
class EtcdClusterIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.cluster(3);

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    @Test
    void aSignedRecordReadBackWithEtcdctlIsOneLineOfJsonThatVerifies() throws Exception {
        Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
        KeyLayout layout = new KeyLayout(etcd.uniquePrefix("etcdctl"));
        NodeRecord record = Samples.nodeRecord("node-a", 1, 20);
        byte[] signed = AuthoritySignature.sign(record, authority);
        etcd.client().getKVClient().put(bytes(layout.node("node-a")), ByteSequence.from(signed)).get(10, TimeUnit.SECONDS);

        String printed = etcdctl("get", "--print-value-only", layout.node("node-a"));
        assertEquals(1, printed.strip().lines().count(), printed);
        NodeRecordCheck check = new NodeRecordCheck(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH);
        assertEquals(record, check.verify(layout.node("node-a"), printed.strip().getBytes(StandardCharsets.UTF_8)).value());
    }

    @Test
    void killingTheRaftLeaderKeepsTheClusterWritableAndTheMemberCatchesUpOnRestart() throws Exception {
        etcd.requireMemberFaults(3);
        int leader = raftLeaderIndex();
        etcd.cluster().killMember(leader);
        ByteSequence key = bytes(etcd.uniquePrefix("failover") + "/k");
        putWithin(etcd.client(), key, "after-kill");

        etcd.cluster().startMember(leader);
        URI restarted = etcd.cluster().clientEndpoints().get(leader);
        try (Client pinned = Client.builder().endpoints(restarted).build()) {
            assertEquals("after-kill", readWithin(pinned, key));
        }
    }

    @Test
    void aPausedMemberDoesNotStopTheOthersAndServesAgainWhenResumed() throws Exception {
        etcd.requireMemberFaults(3);
        int paused = (raftLeaderIndex() + 1) % 3;
        etcd.cluster().pauseMember(paused);
        ByteSequence key = bytes(etcd.uniquePrefix("pause") + "/k");
        try {
            putWithin(etcd.client(), key, "while-paused");
        } finally {
            etcd.cluster().resumeMember(paused);
        }
        try (Client pinned = Client.builder().endpoints(etcd.cluster().clientEndpoints().get(paused)).build()) {
            assertEquals("while-paused", readWithin(pinned, key));
        }
    }

    @Test
    void aWatchFromACompactedRevisionFailsWithCompacted() throws Exception {
        String prefix = etcd.uniquePrefix("compact");
        long before = etcd.client().getKVClient().put(bytes(prefix + "/a"), bytes("1")).get(10, TimeUnit.SECONDS)
                .getHeader().getRevision();
        etcd.client().getKVClient().put(bytes(prefix + "/a"), bytes("2")).get(10, TimeUnit.SECONDS);
        long compactedAt = etcd.compact();
        assertTrue(compactedAt > before);

        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        WatchOption fromOld = WatchOption.builder().isPrefix(true).withRevision(before).build();
        var watcher = etcd.client().getWatchClient().watch(bytes(prefix), fromOld,
                response -> failure.completeExceptionally(new AssertionError("got events from a compacted revision")),
                failure::complete);
        try {
            Throwable error = failure.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertInstanceOf(CompactedException.class, error, String.valueOf(error));
        } finally {
            watcher.close();
        }
    }

    private static int raftLeaderIndex() throws Exception {
        for (int i = 0; i < 3; i++) {
            URI endpoint = etcd.cluster().clientEndpoints().get(i);
            StatusResponse status = etcd.client().getMaintenanceClient().statusMember(endpoint.toString())
                    .get(10, TimeUnit.SECONDS);
            if (status.getLeader() == status.getHeader().getMemberId()) {
                return i;
            }
        }
        throw new AssertionError("no member reports itself as raft leader");
    }

    private static void putWithin(Client client, ByteSequence key, String value) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                client.getKVClient().put(key, bytes(value)).get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(200);
            }
        }
        throw new AssertionError("no successful write within " + DEADLINE, last);
    }

    private static String readWithin(Client client, ByteSequence key) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                var kvs = client.getKVClient().get(key).get(5, TimeUnit.SECONDS).getKvs();
                if (!kvs.isEmpty()) {
                    return kvs.get(0).getValue().toString(StandardCharsets.UTF_8);
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("key not readable within " + DEADLINE, last);
    }

    private static String etcdctl(String... args) throws Exception {
        String endpoints = String.join(",", etcd.cluster().clientEndpoints().stream().map(URI::toString).toList());
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("etcdctl", "--endpoints", endpoints));
        command.addAll(java.util.List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "etcdctl did not finish");
        assertEquals(0, p.exitValue(), "etcdctl failed: " + out);
        return out;
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
