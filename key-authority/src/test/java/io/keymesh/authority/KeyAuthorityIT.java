package io.keymesh.authority;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.authority.election.LeaderElection;
import io.keymesh.authority.election.Leadership;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.authority.store.FencedWriter;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.testing.Joiner;
import io.keymesh.testing.etcd.EtcdExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Authority replicas in this JVM against a real 3-member etcd. */
class KeyAuthorityIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.cluster(3);

    private static final String MESH = "it-mesh";
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final Ed25519PrivateKey signingKey = Ed25519PrivateKey.generate();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KeyLayout layout;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private KeyAuthority replica(String name) {
        return replica(name, null, Clock.systemUTC());
    }

    private KeyAuthority replica(String name, Duration maxKeyAge, Clock clock) {
        layout = layout == null ? new KeyLayout(etcd.uniquePrefix("authority")) : layout;
        Path keyFile = dir.resolve("authority.key");
        if (!keyFile.toFile().exists()) {
            KeyFiles.writeSecret(keyFile, signingKey.toBase64Secret(), false);
        }
        AuthoritySettings settings = new AuthoritySettings(io.keymesh.runtime.etcd.EtcdAccess.plain(etcd.cluster().clientEndpoints()), layout, MESH, keyFile, List.of(),
                List.of(IpPrefix.parse("198.18.0.0/16")), 51820, 25, Duration.ofSeconds(2), name, null, maxKeyAge);
        Client client = etcd.clientBuilder().maxInboundMessageSize(io.keymesh.runtime.etcd.PagedRead.MAX_MESSAGE_BYTES).build();
        toClose.add(client);
        KeyAuthority authority = new KeyAuthority(client, settings, signingKey, clock, new Metrics());
        toClose.add(authority);
        authority.start();
        return authority;
    }

    private static KeyAuthority awaitSingleLeader(List<KeyAuthority> replicas) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<KeyAuthority> leaders = replicas.stream().filter(KeyAuthority::isLeader).toList();
            assertTrue(leaders.size() <= 1, "two leaders at once");
            if (leaders.size() == 1) {
                return leaders.get(0);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no leader within " + WAIT);
    }

    @Test
    void exactlyOneOfThreeReplicasLeadsAndAStandbyTakesOverOnResign() throws Exception {
        List<KeyAuthority> replicas = List.of(replica("a"), replica("b"), replica("c"));
        KeyAuthority leader = awaitSingleLeader(replicas);
        for (int i = 0; i < 20; i++) {
            assertEquals(1, replicas.stream().filter(KeyAuthority::isLeader).count());
            Thread.sleep(50);
        }
        long resignedAt = System.nanoTime();
        leader.close();
        KeyAuthority next = awaitSingleLeader(replicas.stream().filter(r -> r != leader).toList());
        assertTrue(next != leader);
        long tookMillis = (System.nanoTime() - resignedAt) / 1_000_000;
        assertTrue(tookMillis < 10_000, "takeover after resign took " + tookMillis + " ms");
    }

    /** The system clock, moved forward on demand: keys age without waiting. */
    private static final class MovableClock extends Clock {
        private volatile Duration ahead = Duration.ZERO;

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public java.time.Instant instant() {
            return java.time.Instant.now().plus(ahead);
        }
    }

    @Test
    void keysOlderThanTheMaximumAgeAreMarkedForRotationOneAtATime() throws Exception {
        MovableClock clock = new MovableClock();
        replica("a", Duration.ofMinutes(1), clock);
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        for (String node : List.of("node-a", "node-b")) {
            Joiner.Host host = joiner.host(node, joiner.issueToken(1, node));
            joiner.write(node, host.request()).get(10, TimeUnit.SECONDS);
            assertEquals(EnrollmentOutcome.ADMITTED, joiner.awaitResult(node, host.request(), WAIT).outcome());
        }
        NodeRecordCheck check = new NodeRecordCheck(layout, TrustedKeys.of(signingKey.publicKey()), MESH);
        java.util.function.Function<String, NodeRecord> record = node -> {
            try {
                return check.verify(layout.node(node), get(layout.node(node)).get(0).getValue().getBytes()).value();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        assertTrue(!record.apply("node-a").isRotationRequested() && !record.apply("node-b").isRotationRequested(), "young keys stay");

        clock.ahead = Duration.ofMinutes(2);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!record.apply("node-a").isRotationRequested() && !record.apply("node-b").isRotationRequested()
                && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        Thread.sleep(7_000); // more than one check period: still only one of the two is marked
        assertEquals(1, java.util.stream.Stream.of("node-a", "node-b").filter(n -> record.apply(n).isRotationRequested()).count(),
                "one rotation at a time");
        NodeRecord marked = record.apply("node-a").isRotationRequested() ? record.apply("node-a") : record.apply("node-b");
        assertEquals(1, marked.epoch(), "the mark keeps the epoch and the key");
        assertEquals(2, marked.serial());
    }

    @Test
    void aJoinIsAdmittedWithASignedRecordAnAddressAndAnAnswer() throws Exception {
        awaitSingleLeader(List.of(replica("a"), replica("b")));
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        JoinTokenSecret token = joiner.issueToken(1, "node-a");
        Joiner.Host host = joiner.host("node-a", token);
        joiner.write("node-a", host.request()).get(10, TimeUnit.SECONDS);

        EnrollmentResult result = joiner.awaitResult("node-a", host.request(), WAIT);
        assertEquals(EnrollmentOutcome.ADMITTED, result.outcome(), String.valueOf(result));
        assertEquals(1, result.epoch());

        byte[] stored = get(layout.node("node-a")).get(0).getValue().getBytes();
        NodeRecord record = new NodeRecordCheck(layout, TrustedKeys.of(signingKey.publicKey()), MESH)
                .verify(layout.node("node-a"), stored).value();
        assertEquals(host.wg().publicKey(), record.wgPublicKey());
        assertEquals(1, get(layout.directory(KeyLayout.Kind.IPAM)).size());
        assertEquals(1, get(layout.directory(KeyLayout.Kind.AUDIT)).size());
        assertEquals(1, get(layout.config()).size(), "the leader publishes the signed mesh config");

        // Asking again with the same identity and key (the token is spent by now) gets the same
        // record back, and the record is not rewritten.
        long recordRevision = get(layout.node("node-a")).get(0).getModRevision();
        Joiner.Host again = joiner.request("node-a", host.identity(), host.wg(), token);
        joiner.write("node-a", again.request()).get(10, TimeUnit.SECONDS);
        EnrollmentResult second = joiner.awaitResult("node-a", again.request(), WAIT);
        assertEquals(EnrollmentOutcome.ADMITTED, second.outcome(), String.valueOf(second));
        assertEquals(1, second.epoch());
        assertEquals(recordRevision, get(layout.node("node-a")).get(0).getModRevision(), "the record was not rewritten");
        assertArrayEquals(stored, get(layout.node("node-a")).get(0).getValue().getBytes());
    }

    @Test
    void joinsWaitingBeforeTheAuthorityStartsAreAnsweredWithoutAnyFurtherWrite() throws Exception {
        layout = new KeyLayout(etcd.uniquePrefix("waiting"));
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        Joiner.Host host = joiner.host("early", joiner.issueToken(1, null));
        joiner.write("early", host.request()).get(10, TimeUnit.SECONDS);
        replica("a");
        assertEquals(EnrollmentOutcome.ADMITTED, joiner.awaitResult("early", host.request(), WAIT).outcome());
    }

    @Test
    void aMeshLargerThanOneGrpcMessageStillLoads() throws Exception {
        layout = new KeyLayout(etcd.uniquePrefix("large"));
        // Five values of 1.4 MB (etcd's request limit is 1.5 MiB): 7 MB in all, over gRPC's 4 MiB default.
        String big = "{\"node\":\"x\",\"pad\":\"" + "a".repeat(1_400_000) + "\"}";
        for (int i = 0; i < 5; i++) {
            etcd.client().getKVClient().put(EtcdBytes.key(layout.enroll("big-" + i)), EtcdBytes.value(big.getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS);
        }
        KeyAuthority authority = replica("a");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!authority.isReady() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(authority.isReady(), "the replica loaded the mesh");
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        assertEquals("oversized", joiner.awaitResult("big-0", big.getBytes(StandardCharsets.UTF_8), WAIT).reason());
    }

    @Test
    void twoHundredConcurrentJoinsGetTwoHundredDistinctAddressesAtEpochOne() throws Exception {
        awaitSingleLeader(List.of(replica("a"), replica("b"), replica("c")));
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        JoinTokenSecret token = joiner.issueToken(200, null);
        List<Joiner.Host> hosts = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            hosts.add(joiner.host("n" + i, token));
        }
        CompletableFuture.allOf(hosts.stream().map(h -> joiner.write(h.node(), h.request())).toArray(CompletableFuture[]::new))
                .get(30, TimeUnit.SECONDS);
        for (Joiner.Host host : hosts) {
            EnrollmentResult result = joiner.awaitResult(host.node(), host.request(), WAIT);
            assertEquals(EnrollmentOutcome.ADMITTED, result.outcome(), host.node() + ": " + result);
            assertEquals(1, result.epoch());
        }
        Set<String> addresses = new HashSet<>();
        for (KeyValue kv : get(layout.directory(KeyLayout.Kind.NODE))) {
            NodeRecord record = Json.parse(kv.getValue().getBytes(), NodeRecord.class);
            assertEquals(1, record.epoch());
            record.addresses().forEach(a -> addresses.add(a.toString()));
        }
        assertEquals(200, addresses.size());
        assertEquals(200, get(layout.directory(KeyLayout.Kind.IPAM)).size());
    }

    @Test
    void badInputIsRefusedWithItsReasonAndChangesNothingAdmitted() throws Exception {
        awaitSingleLeader(List.of(replica("a")));
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        Joiner.Host good = joiner.host("good", joiner.issueToken(1, null));
        joiner.write("good", good.request()).get(10, TimeUnit.SECONDS);
        assertEquals(EnrollmentOutcome.ADMITTED, joiner.awaitResult("good", good.request(), WAIT).outcome());
        List<KeyValue> admittedBefore = get(layout.directory(KeyLayout.Kind.NODE));

        JoinTokenSecret unknown = JoinTokenSecret.generate();
        byte[] badSignature = new String(joiner.host("bad-sig", joiner.issueToken(1, null)).request(), StandardCharsets.UTF_8)
                .replace("192.0.2.10", "192.0.2.66").getBytes(StandardCharsets.UTF_8);
        byte[] duplicateKey = joiner.request("dup", io.keymesh.schema.crypto.Ed25519PrivateKey.generate(), good.wg(),
                joiner.issueToken(1, null)).request();
        List<Object[]> cases = List.of(
                new Object[] {"bad-sig", badSignature, "bad-signature"},
                new Object[] {"unknown", joiner.host("unknown", unknown).request(), "unknown-token"},
                new Object[] {"spent", joiner.host("spent", joiner.issueToken(0, null)).request(), "spent-token"},
                new Object[] {"expired", joiner.host("expired", joiner.issueToken(1, null, Duration.ofMinutes(-1))).request(), "expired-token"},
                new Object[] {"bound", joiner.host("bound", joiner.issueToken(1, "someone-else")).request(), "token-bound-to-other-node"},
                new Object[] {"dup", duplicateKey, "duplicate-key"},
                new Object[] {"bad-name", "{\"node\":\"Bad_Name\"}".getBytes(StandardCharsets.UTF_8), "invalid-name"},
                new Object[] {"garbage", "{not json".getBytes(StandardCharsets.UTF_8), "malformed"},
                new Object[] {"huge", ("{\"node\":\"huge\",\"x\":\"" + "a".repeat(70_000) + "\"}").getBytes(StandardCharsets.UTF_8), "oversized"},
                new Object[] {"good", joiner.host("good", joiner.issueToken(1, null)).request(), "node-name-taken"});
        for (Object[] c : cases) {
            joiner.write((String) c[0], (byte[]) c[1]).get(10, TimeUnit.SECONDS);
        }
        for (Object[] c : cases) {
            EnrollmentResult result = joiner.awaitResult((String) c[0], (byte[]) c[1], WAIT);
            assertEquals(EnrollmentOutcome.REJECTED, result.outcome(), c[0] + ": " + result);
            assertEquals(c[2], result.reason(), c[0] + ": " + result.detail());
        }
        assertEquals(admittedBefore.stream().map(KeyValue::getModRevision).toList(),
                get(layout.directory(KeyLayout.Kind.NODE)).stream().map(KeyValue::getModRevision).toList(),
                "no admitted record changed");
        long audited = get(layout.directory(KeyLayout.Kind.AUDIT)).stream()
                .filter(kv -> new String(kv.getValue().getBytes(), StandardCharsets.UTF_8).contains("\"event\":\"rejected\"")).count();
        assertEquals(cases.size(), audited, "every rejection is in the audit log");
    }

    @Test
    void revokeMarksTheRecordReleasesTheAddressAndTombstonesTheIdentity() throws Exception {
        awaitSingleLeader(List.of(replica("a")));
        Joiner joiner = new Joiner(etcd.client(), layout, MESH);
        JoinTokenSecret token = joiner.issueToken(2, null);
        Joiner.Host host = joiner.host("node-r", token);
        joiner.write("node-r", host.request()).get(10, TimeUnit.SECONDS);
        joiner.awaitResult("node-r", host.request(), WAIT);

        OperatorRequest request = OperatorRequest.pending("revoke-1", RequestAction.REVOKE, "node-r", null, Instant.now());
        etcd.client().getKVClient().put(EtcdBytes.key(layout.request("revoke-1")), EtcdBytes.value(Json.toLine(Json.toTree(request))))
                .get(10, TimeUnit.SECONDS);
        OperatorRequest done = awaitRequest("revoke-1");
        assertEquals(RequestStatus.DONE, done.status(), String.valueOf(done.reason()));
        NodeRecord record = Json.parse(get(layout.node("node-r")).get(0).getValue().getBytes(), NodeRecord.class);
        assertEquals(NodeState.REVOKED, record.state());
        assertEquals(2, record.epoch());
        assertEquals(0, get(layout.directory(KeyLayout.Kind.IPAM)).size());
        assertEquals(1, get(layout.revoked(host.identity().publicKey().fingerprint())).size());

        // The same identity can never enroll again, even with a valid token.
        Joiner.Host rejoin = joiner.request("node-r", host.identity(), io.keymesh.schema.crypto.WireGuardPrivateKey.generate(), token);
        joiner.write("node-r", rejoin.request()).get(10, TimeUnit.SECONDS);
        EnrollmentResult refused = joiner.awaitResult("node-r", rejoin.request(), WAIT);
        assertEquals("tombstoned-identity", refused.reason(), String.valueOf(refused));
    }

    @Test
    void aDeposedLeaderCannotWrite() throws Exception {
        layout = new KeyLayout(etcd.uniquePrefix("fence"));
        AtomicReference<Leadership> first = new AtomicReference<>();
        try (Client a = etcd.newClient(); Client b = etcd.newClient()) {
            LeaderElection electionA = new LeaderElection(a, layout.election(), "a", Duration.ofSeconds(2), () -> true, listener(first));
            electionA.start();
            Leadership old = await(first);
            // A pause past the lease: etcd expires A's lease while A, frozen, still believes it leads.
            etcd.client().getLeaseClient().revoke(old.leaseId()).get(10, TimeUnit.SECONDS);
            AtomicReference<Leadership> second = new AtomicReference<>();
            LeaderElection electionB = new LeaderElection(b, layout.election(), "b", Duration.ofSeconds(2), () -> true, listener(second));
            electionB.start();
            Leadership current = await(second);
            assertTrue(current.createRevision() > old.createRevision());

            FencedWriter.Outcome outcome = new FencedWriter(a).commit(old, List.of(),
                    List.of(Op.put(EtcdBytes.key(layout.node("victim")), EtcdBytes.value("forged".getBytes(StandardCharsets.UTF_8)), PutOption.DEFAULT)));
            assertInstanceOf(FencedWriter.Outcome.Fenced.class, outcome);
            assertTrue(get(layout.node("victim")).isEmpty(), "the deposed leader's write must not land");
            assertInstanceOf(FencedWriter.Outcome.Committed.class, new FencedWriter(b).commit(current, List.of(),
                    List.of(Op.put(EtcdBytes.key(layout.node("victim")), EtcdBytes.value("ok".getBytes(StandardCharsets.UTF_8)), PutOption.DEFAULT))));
            electionA.close();
            electionB.close();
        }
    }

    private static LeaderElection.Listener listener(AtomicReference<Leadership> into) {
        return new LeaderElection.Listener() {
            @Override
            public void takeLeadership(Leadership leadership) {
                into.set(leadership);
            }

            @Override
            public void leadershipLost(String why) {
            }
        };
    }

    private static Leadership await(AtomicReference<Leadership> ref) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (ref.get() == null && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(ref.get() != null, "not elected within " + WAIT);
        return ref.get();
    }

    private OperatorRequest awaitRequest(String id) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            List<KeyValue> kvs = get(layout.request(id));
            if (!kvs.isEmpty()) {
                OperatorRequest r = Json.parse(kvs.get(0).getValue().getBytes(), OperatorRequest.class);
                if (r.status() != RequestStatus.PENDING) {
                    return r;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("request " + id + " not answered within " + WAIT);
    }

    private static List<KeyValue> get(String keyOrDirectory) throws Exception {
        GetOption option = GetOption.builder().isPrefix(keyOrDirectory.endsWith("/")).build();
        return etcd.client().getKVClient().get(EtcdBytes.key(keyOrDirectory), option).get(10, TimeUnit.SECONDS).getKvs();
    }
}
