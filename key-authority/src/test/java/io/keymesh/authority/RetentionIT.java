package io.keymesh.authority;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.authority.retention.Limit;
import io.keymesh.authority.retention.RetentionPolicy;
import io.keymesh.runtime.etcd.EtcdAccess;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.runtime.etcd.PrefixWatch;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Digests;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.AuditEventType;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import io.keymesh.testing.etcd.EtcdExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention by the leader against a real 3-member etcd: what is past its age or beyond its count
 * goes, everything else stays (a rollout under way keeps its rotations, a join keeps its answer
 * until answered again), and a leader that dies mid-way leaves a store the next one finishes
 * without losing anything.
 */
class RetentionIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.cluster(3);

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int AUDIT_KEPT = 1_000;

    @TempDir
    Path dir;

    private final Ed25519PrivateKey signingKey = Ed25519PrivateKey.generate();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final KeyLayout layout = new KeyLayout(etcd.uniquePrefix("retention"));

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    @Test
    void pastTheLimitsGoesEverythingElseStaysAndALeaderKilledMidwayLosesNothing() throws Exception {
        Instant now = Instant.now();
        Instant old = now.minus(Duration.ofDays(40));
        Map<String, byte[]> puts = new LinkedHashMap<>();
        List<String> expectedGone = new ArrayList<>();
        List<String> expectedKept = new ArrayList<>();
        // Audit: 2,500 past the age; 1,200 recent, of which only the newest fit the count; one unreadable.
        for (int i = 0; i < 2_500; i++) {
            String id = String.format("old-%05d", i);
            puts.put(layout.audit(id), audit(id, old.plusSeconds(i)));
            expectedGone.add(layout.audit(id));
        }
        List<String> recentAudit = new ArrayList<>();
        for (int i = 0; i < 1_200; i++) {
            String id = String.format("recent-%05d", i);
            puts.put(layout.audit(id), audit(id, now.minus(Duration.ofHours(2)).plusSeconds(i)));
            recentAudit.add(layout.audit(id));
        }
        puts.put(layout.audit("unreadable"), "{".getBytes(StandardCharsets.UTF_8));
        expectedGone.add(layout.audit("unreadable"));
        // Requests: 300 answered long ago go; recent answers and a rollout under way (with its old rotations) stay.
        for (int i = 0; i < 300; i++) {
            OperatorRequest r = OperatorRequest.pending("r-" + i, RequestAction.ROTATE, "n" + i, null, old).completed(RequestStatus.DONE, null, old);
            puts.put(layout.request(r.id()), Json.toLine(Json.toTree(r)));
            expectedGone.add(layout.request(r.id()));
        }
        OperatorRequest rollout = OperatorRequest.rollout("rollout-1", List.of("a", "b"), 1, old);
        OperatorRequest rotated = OperatorRequest.pending("rollout-1.a", RequestAction.ROTATE, "a", null, old)
                .completed(RequestStatus.DONE, null, old);
        OperatorRequest recent = OperatorRequest.pending("r-recent", RequestAction.ROTATE, "a", null, now)
                .completed(RequestStatus.REJECTED, "unknown-node", now);
        for (OperatorRequest r : List.of(rollout, rotated, recent)) {
            puts.put(layout.request(r.id()), Json.toLine(Json.toTree(r)));
            expectedKept.add(layout.request(r.id()));
        }
        // Enrollments: 150 answered long ago go, request and answer together; a recent one stays.
        for (int i = 0; i < 151; i++) {
            String node = "host-" + i;
            byte[] request = ("join " + i).getBytes(StandardCharsets.UTF_8);
            Instant at = i == 150 ? now : old;
            puts.put(layout.enroll(node), request);
            puts.put(layout.enrollResult(node), Json.toLine(Json.toTree(new EnrollmentResult(node, Digests.sha256Hex(request),
                    EnrollmentOutcome.REJECTED, 0, "unknown-token", "no such token", at))));
            (i == 150 ? expectedKept : expectedGone).addAll(List.of(layout.enroll(node), layout.enrollResult(node)));
        }
        write(puts);
        int auditBefore = count(layout.directory(KeyLayout.Kind.AUDIT));
        assertEquals(3_701, auditBefore);

        // The first leader deletes a pass's worth, then dies without resigning (its etcd client cut off first).
        Client firstClient = client();
        KeyAuthority first = replica("first", firstClient);
        await(() -> count(layout.directory(KeyLayout.Kind.AUDIT)) < auditBefore, "the first leader started pruning");
        firstClient.close();
        first.close();
        int auditLeft = count(layout.directory(KeyLayout.Kind.AUDIT));
        assertTrue(auditLeft > AUDIT_KEPT, "the first leader was stopped mid-way, " + auditLeft + " audit keys left");
        assertEnrollmentsWhole(151);

        KeyAuthority second = replica("second", client());
        await(() -> count(layout.directory(KeyLayout.Kind.AUDIT)) == AUDIT_KEPT
                && count(layout.directory(KeyLayout.Kind.REQUEST)) == expectedKept.stream().filter(k -> k.contains("/requests/")).count()
                && count(layout.directory(KeyLayout.Kind.ENROLL)) == 1, "the second leader finished");
        assertTrue(second.isLeader());

        Set<String> present = new TreeSet<>();
        for (String directory : List.of(layout.directory(KeyLayout.Kind.AUDIT), layout.directory(KeyLayout.Kind.REQUEST),
                layout.directory(KeyLayout.Kind.ENROLL), layout.directory(KeyLayout.Kind.ENROLL_RESULT))) {
            list(directory).forEach(kv -> present.add(kv.getKey().toString(StandardCharsets.UTF_8)));
        }
        for (String key : expectedGone) {
            assertTrue(!present.contains(key), key + " is past its retention and still there");
        }
        for (String key : expectedKept) {
            assertTrue(present.contains(key), key + " is within its retention (or still needed) and was deleted");
        }
        // Of the recent audit events, exactly the newest stay: no newer one went before an older one.
        List<Boolean> kept = recentAudit.stream().map(present::contains).toList();
        int firstKept = kept.indexOf(true);
        assertTrue(firstKept >= 200, "at most 1,000 audit events stay, so at least 200 of the 1,200 recent ones go");
        assertEquals(kept.size() - firstKept, kept.subList(firstKept, kept.size()).stream().filter(b -> b).count(),
                "the audit events kept are the newest ones");
    }

    private KeyAuthority replica(String name, Client client) {
        Path keyFile = dir.resolve("authority.key");
        if (!keyFile.toFile().exists()) {
            KeyFiles.writeSecret(keyFile, signingKey.toBase64Secret(), false);
        }
        RetentionPolicy retention = new RetentionPolicy(new Limit(Duration.ofDays(30), AUDIT_KEPT), RetentionPolicy.DEFAULT.requests(),
                RetentionPolicy.DEFAULT.enrollments());
        AuthoritySettings settings = new AuthoritySettings(EtcdAccess.plain(etcd.cluster().clientEndpoints()), layout, "it-mesh", keyFile,
                List.of(), List.of(IpPrefix.parse("198.18.0.0/16")), 51820, 25, Duration.ofSeconds(2), name, null, null,
                PrefixWatch.Liveness.DEFAULT, retention);
        KeyAuthority authority = new KeyAuthority(client, settings, signingKey, Clock.systemUTC(), new Metrics());
        toClose.add(authority);
        authority.start();
        return authority;
    }

    private Client client() {
        Client client = etcd.clientBuilder().maxInboundMessageSize(io.keymesh.runtime.etcd.PagedRead.MAX_MESSAGE_BYTES).build();
        toClose.add(client);
        return client;
    }

    /** A request and its answer are deleted in one transaction: never one without the other. */
    private void assertEnrollmentsWhole(int written) throws Exception {
        Set<String> requests = new TreeSet<>();
        Set<String> answers = new TreeSet<>();
        list(layout.directory(KeyLayout.Kind.ENROLL)).forEach(kv -> requests.add(layout.parse(kv.getKey().toString(StandardCharsets.UTF_8))
                .orElseThrow().name()));
        list(layout.directory(KeyLayout.Kind.ENROLL_RESULT)).forEach(kv -> answers.add(layout.parse(kv.getKey()
                .toString(StandardCharsets.UTF_8)).orElseThrow().name()));
        assertEquals(requests, answers, "an enrollment request and its answer were split");
        assertTrue(requests.size() <= written);
    }

    private static byte[] audit(String id, Instant at) {
        return Json.toLine(Json.toTree(new AuditEvent(id, at, AuditEventType.ROTATED, "a", 2, null, "written by the test")));
    }

    private static void write(Map<String, byte[]> puts) throws Exception {
        List<Op> batch = new ArrayList<>();
        for (Map.Entry<String, byte[]> put : puts.entrySet()) {
            batch.add(Op.put(EtcdBytes.key(put.getKey()), EtcdBytes.value(put.getValue()), PutOption.DEFAULT));
            if (batch.size() == 100) {
                etcd.client().getKVClient().txn().Then(batch.toArray(Op[]::new)).commit().get(10, TimeUnit.SECONDS);
                batch.clear();
            }
        }
        if (!batch.isEmpty()) {
            etcd.client().getKVClient().txn().Then(batch.toArray(Op[]::new)).commit().get(10, TimeUnit.SECONDS);
        }
    }

    private static int count(String directory) {
        try {
            return (int) etcd.client().getKVClient().get(EtcdBytes.key(directory), GetOption.builder().isPrefix(true).withCountOnly(true)
                    .build()).get(10, TimeUnit.SECONDS).getCount();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<KeyValue> list(String directory) throws Exception {
        return etcd.client().getKVClient().get(EtcdBytes.key(directory), GetOption.builder().isPrefix(true).build())
                .get(10, TimeUnit.SECONDS).getKvs();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + WAIT.toSeconds() + " s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
