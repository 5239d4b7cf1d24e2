package io.keymesh.authority.state;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keymesh.runtime.etcd.Change;
import io.keymesh.schema.crypto.Digests;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The leader's indexes of unanswered enrollments and pending requests against a scan of everything. */
class MeshCacheTest {
    private static final Instant NOW = Instant.parse("2026-11-21T10:00:00Z");
    private final KeyLayout layout = new KeyLayout("/keymesh/v1");
    private final MeshCache cache = new MeshCache(layout, TrustedKeys.of(Ed25519PrivateKey.generate().publicKey()), "it-mesh");

    @Test
    void indexesAgreeWithAScanThroughRandomChangesAndSnapshots() {
        Random random = new Random(5);
        Map<String, byte[]> store = new TreeMap<>(); // the etcd prefix, by key
        long revision = 1;
        for (int step = 0; step < 2000; step++) {
            String node = "node-" + random.nextInt(6);
            String key;
            byte[] value;
            switch (random.nextInt(4)) {
                case 0 -> {
                    key = layout.enroll(node);
                    value = ("request " + random.nextInt(3)).getBytes(StandardCharsets.UTF_8);
                }
                case 1 -> {
                    key = layout.enrollResult(node);
                    String answered = Digests.sha256Hex(("request " + random.nextInt(3)).getBytes(StandardCharsets.UTF_8));
                    value = random.nextInt(8) == 0 ? "{not json".getBytes(StandardCharsets.UTF_8) : Json.toLine(Json.toTree(
                            new EnrollmentResult(random.nextInt(8) == 0 ? "node-x" : node, answered, EnrollmentOutcome.ADMITTED, 1,
                                    null, null, NOW)));
                }
                case 3 -> {
                    String id = "e-" + random.nextInt(4);
                    key = layout.audit(id);
                    value = random.nextInt(5) == 0 ? "{".getBytes(StandardCharsets.UTF_8) : Json.toLine(Json.toTree(
                            new io.keymesh.schema.record.AuditEvent(id, NOW, io.keymesh.schema.record.AuditEventType.REVOKED, node, 2,
                                    null, null)));
                }
                default -> {
                    String id = "r-" + random.nextInt(6);
                    key = layout.request(id);
                    OperatorRequest request = OperatorRequest.pending(id, RequestAction.ROTATE, node, null, NOW);
                    value = Json.toLine(Json.toTree(random.nextBoolean() ? request : request.completed(RequestStatus.DONE, "done", NOW)));
                }
            }
            if (random.nextInt(5) == 0) {
                store.remove(key);
                cache.apply(List.of(Change.delete(key, ++revision)), revision);
            } else {
                store.put(key, value);
                cache.apply(List.of(new Change(key, value, ++revision)), revision);
            }
            assertAgrees(store, "after step " + step);
            if (step % 100 == 0) {
                List<Change> snapshot = new ArrayList<>();
                long at = revision;
                store.forEach((k, v) -> snapshot.add(new Change(k, v, at)));
                cache.reset(snapshot, revision);
                assertAgrees(store, "after a snapshot at step " + step);
            }
        }
    }

    /** The old scans, over what the store holds. */
    private void assertAgrees(Map<String, byte[]> store, String when) {
        List<String> unanswered = new ArrayList<>();
        List<String> pending = new ArrayList<>();
        store.forEach((key, value) -> {
            KeyLayout.Key parsed = layout.parse(key).orElseThrow();
            if (parsed.kind() == KeyLayout.Kind.ENROLL) {
                byte[] result = store.get(layout.enrollResult(parsed.name()));
                EnrollmentResult answer = parse(result, EnrollmentResult.class);
                if (answer == null || !answer.node().equals(parsed.name()) || !answer.requestDigest().equals(Digests.sha256Hex(value))) {
                    unanswered.add(parsed.name());
                }
            } else if (parsed.kind() == KeyLayout.Kind.REQUEST) {
                OperatorRequest request = parse(value, OperatorRequest.class);
                if (request != null && request.status() == RequestStatus.PENDING) {
                    pending.add(request.id());
                }
            }
        });
        assertEquals(unanswered.stream().sorted().toList(), cache.unansweredEnrollments().stream().map(MeshCache.PendingEnrollment::node).toList(),
                "unanswered enrollments " + when);
        assertEquals(pending.stream().sorted().toList(), cache.pendingRequests().stream().map(r -> r.value().id()).toList(),
                "pending requests " + when);
        // Retention may take exactly what is finished: every other request, every answered enrollment with its answer.
        java.util.Set<String> finished = new java.util.TreeSet<>();
        store.forEach((key, value) -> {
            KeyLayout.Key parsed = layout.parse(key).orElseThrow();
            switch (parsed.kind()) {
                case ENROLL, ENROLL_RESULT -> {
                    if (!unanswered.contains(parsed.name())) {
                        finished.add(key);
                    }
                }
                case REQUEST -> {
                    OperatorRequest request = parse(value, OperatorRequest.class);
                    if (request == null || !pending.contains(request.id())) {
                        finished.add(key);
                    }
                }
                default -> finished.add(key);
            }
        });
        assertEquals(finished, prunableKeys(), "prunable " + when);
    }

    private java.util.Set<String> prunableKeys() {
        var prunable = cache.prunable();
        java.util.Set<String> keys = new java.util.TreeSet<>();
        for (var kind : List.of(prunable.audit(), prunable.requests(), prunable.enrollments())) {
            kind.forEach(f -> f.keys().forEach(k -> keys.add(k.key())));
        }
        return keys;
    }

    @Test
    void retentionNeverTakesARequestARolloutUnderWayStillNeedsNorAnAnswerItsHostHasNotSeen() {
        long revision = 0;
        List<Change> changes = new ArrayList<>();
        OperatorRequest open = OperatorRequest.rollout("rollout-1", List.of("a", "b"), 1, NOW);
        OperatorRequest done = OperatorRequest.rollout("rollout-0", List.of("a"), 1, NOW).completed(RequestStatus.DONE, "ok", NOW);
        for (OperatorRequest r : List.of(open, done,
                OperatorRequest.pending("rollout-1.a", RequestAction.ROTATE, "a", null, NOW).completed(RequestStatus.DONE, null, NOW),
                OperatorRequest.pending("rollout-0.a", RequestAction.ROTATE, "a", null, NOW).completed(RequestStatus.DONE, null, NOW),
                OperatorRequest.pending("rollout-10.a", RequestAction.ROTATE, "a", null, NOW).completed(RequestStatus.DONE, null, NOW))) {
            changes.add(new Change(layout.request(r.id()), Json.toLine(Json.toTree(r)), ++revision));
        }
        byte[] request = "a join".getBytes(StandardCharsets.UTF_8);
        changes.add(new Change(layout.enroll("a"), request, ++revision));
        changes.add(new Change(layout.enrollResult("a"), Json.toLine(Json.toTree(new EnrollmentResult("a",
                Digests.sha256Hex("an older join".getBytes(StandardCharsets.UTF_8)), EnrollmentOutcome.ADMITTED, 1, null, null, NOW))),
                ++revision));
        changes.add(new Change(layout.audit("e1"), Json.toLine(Json.toTree(new io.keymesh.schema.record.AuditEvent("e1", NOW,
                io.keymesh.schema.record.AuditEventType.ADMITTED, "a", 1, null, "x"))), ++revision));
        changes.add(new Change(layout.audit("junk"), "{".getBytes(StandardCharsets.UTF_8), ++revision));
        cache.apply(changes, revision);

        var prunable = cache.prunable();
        assertEquals(java.util.Set.of(layout.request("rollout-0"), layout.request("rollout-0.a"), layout.request("rollout-10.a"),
                layout.audit("e1"), layout.audit("junk")), prunableKeys(), "the open rollout, its rotations and the unanswered join stay");
        assertEquals(java.util.Arrays.asList(NOW, null), prunable.audit().stream().sorted(java.util.Comparator.comparing(
                f -> f.keys().get(0).key())).map(io.keymesh.authority.retention.Finished::at).toList());

        // Answered: the request and its answer go together, each guarded by the revision it was read at.
        cache.apply(List.of(new Change(layout.enrollResult("a"), Json.toLine(Json.toTree(new EnrollmentResult("a",
                Digests.sha256Hex(request), EnrollmentOutcome.ADMITTED, 1, null, null, NOW))), ++revision)), revision);
        var enrollment = cache.prunable().enrollments();
        assertEquals(1, enrollment.size());
        assertEquals(List.of(new io.keymesh.authority.retention.Finished.Stamped(layout.enroll("a"), 6),
                new io.keymesh.authority.retention.Finished.Stamped(layout.enrollResult("a"), revision)), enrollment.get(0).keys());
    }

    private static <T> T parse(byte[] value, Class<T> type) {
        if (value == null) {
            return null;
        }
        try {
            return Json.parse(value, type);
        } catch (RuntimeException e) { // malformed, or a record its constructor refuses
            return null;
        }
    }
}
