package io.keymesh.authority.state;

import io.keymesh.authority.retention.Finished;
import io.keymesh.authority.retention.Prunable;
import io.keymesh.runtime.etcd.Change;
import io.keymesh.schema.crypto.Digests;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.layout.KeyLayout.Key;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.schema.verify.RejectedValueException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The authority's copy of the mesh, fed in revision order by a snapshot-then-watch of the prefix
 * (or by hand in tests). Readers may wait for a revision, which is how the leader makes sure its
 * own last commit is visible before it decides the next request.
 *
 * <p>Node records must verify against the authority's keys to count as admitted; one that does
 * not is kept as an invalid entry, and decisions about that name fail closed (it may be a record
 * signed by a key the configuration forgot, not only a forgery). Any key under {@code revoked/}
 * blocks its identity, verified or not, for the same reason. Values whose name inside differs
 * from their key are invalid: the authority always writes back to the key it read.
 */
public final class MeshCache implements MeshView {
    /** An enrollment waiting in {@code enroll/<node>}: its raw bytes and their digest. */
    public record PendingEnrollment(String node, byte[] value, String digest, long modRevision) {
        /** Whether it asks to rotate (for metrics and logs; admission decides from the verified request). */
        public boolean isRotation() {
            try {
                com.fasterxml.jackson.databind.JsonNode kind = io.keymesh.schema.json.Json.parseObject(value).get("kind");
                return kind != null && "rotate".equals(kind.asText());
            } catch (RuntimeException e) {
                return false;
            }
        }
    }

    private final KeyLayout layout;
    private final TrustedKeys trusted;
    private final NodeRecordCheck nodeCheck;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition advanced = lock.newCondition();
    private long revision;

    private final Map<String, Stored<NodeRecord>> nodes = new HashMap<>();
    private final Map<String, Stored<JoinToken>> tokens = new HashMap<>();
    private final Map<String, Stored<EnrollmentResult>> results = new HashMap<>();
    private final Map<String, PendingEnrollment> enrollments = new TreeMap<>();
    private final Map<String, Stored<OperatorRequest>> requests = new TreeMap<>();
    /** Kept only for retention: what the audit log holds and how old it is. */
    private final Map<String, Stored<AuditEvent>> audit = new HashMap<>();
    /**
     * Indexes kept with each change, so that a leader pass costs what is pending, not the size of
     * the mesh or the history of requests: the nodes whose enrollment has no answer to its digest,
     * and the pending requests (in the orders of the maps above).
     */
    private final Set<String> unanswered = new java.util.TreeSet<>();
    private final Map<String, Stored<OperatorRequest>> pending = new TreeMap<>();
    private final Map<String, Long> ipam = new HashMap<>();
    private final Set<String> tombstones = new HashSet<>();
    private final Set<String> unverified = new HashSet<>();
    private final Map<WireGuardPublicKey, String> byWireGuardKey = new HashMap<>();
    private final Map<Ed25519PublicKey, String> byIdentity = new HashMap<>();

    public MeshCache(KeyLayout layout, TrustedKeys trusted, String mesh) {
        this.layout = layout;
        this.trusted = trusted;
        this.nodeCheck = new NodeRecordCheck(layout, trusted, mesh);
    }

    /** Replaces everything with a snapshot read at {@code snapshotRevision}. */
    public void reset(List<Change> snapshot, long snapshotRevision) {
        lock.lock();
        try {
            nodes.clear();
            tokens.clear();
            results.clear();
            enrollments.clear();
            requests.clear();
            audit.clear();
            unanswered.clear();
            pending.clear();
            ipam.clear();
            tombstones.clear();
            unverified.clear();
            byWireGuardKey.clear();
            byIdentity.clear();
            snapshot.forEach(this::applyLocked);
            revision = snapshotRevision;
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Applies the changes of one watch response, all at or below {@code upTo}. */
    public void apply(List<Change> changes, long upTo) {
        lock.lock();
        try {
            changes.forEach(this::applyLocked);
            revision = Math.max(revision, upTo);
            advanced.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void applyLocked(Change change) {
        Optional<Key> parsed = layout.parse(change.key());
        if (parsed.isEmpty()) {
            return;
        }
        String name = parsed.get().name();
        switch (parsed.get().kind()) {
            case NODE -> {
                unindex(name);
                unverified.remove(change.key());
                if (change.isDelete()) {
                    nodes.remove(name);
                } else {
                    Stored<NodeRecord> stored = verifyNode(change);
                    nodes.put(name, stored);
                    if (stored.isValid()) {
                        byWireGuardKey.put(stored.value().wgPublicKey(), name);
                        byIdentity.put(stored.value().identityKey(), name);
                    } else {
                        unverified.add(change.key());
                    }
                }
            }
            case TOKEN -> put(tokens, name, change, JoinToken.class, JoinToken::id);
            case ENROLL_RESULT -> {
                put(results, name, change, EnrollmentResult.class, EnrollmentResult::node);
                indexAnswer(name);
            }
            case REQUEST -> {
                put(requests, name, change, OperatorRequest.class, OperatorRequest::id);
                Stored<OperatorRequest> request = requests.get(name);
                if (request != null && request.isValid() && request.value().status() == RequestStatus.PENDING) {
                    pending.put(name, request);
                } else {
                    pending.remove(name);
                }
            }
            case ENROLL -> {
                if (change.isDelete()) {
                    enrollments.remove(name);
                } else {
                    enrollments.put(name, new PendingEnrollment(name, change.value(), Digests.sha256Hex(change.value()),
                            change.modRevision()));
                }
                indexAnswer(name);
            }
            case IPAM -> {
                if (change.isDelete()) {
                    ipam.remove(name);
                } else {
                    ipam.put(name, change.modRevision());
                }
            }
            case REVOKED -> {
                unverified.remove(change.key());
                if (change.isDelete()) {
                    tombstones.remove(name);
                } else {
                    tombstones.add(name);
                    if (!verifiesAs(change.value(), RevocationTombstone.class)) {
                        unverified.add(change.key());
                    }
                }
            }
            case AUDIT -> put(audit, name, change, AuditEvent.class, AuditEvent::id);
            default -> {
                // config, keys, status: not part of the authority's decisions
            }
        }
    }

    private void indexAnswer(String node) {
        PendingEnrollment e = enrollments.get(node);
        Stored<EnrollmentResult> result = results.get(node);
        if (e != null && (result == null || !result.isValid() || !result.value().requestDigest().equals(e.digest()))) {
            unanswered.add(node);
        } else {
            unanswered.remove(node);
        }
    }

    /** Whether a change under {@code key} can change what the leader decides (status reports and the audit log cannot). */
    public boolean concernsDecisions(String key) {
        return layout.parse(key).map(k -> k.kind() != KeyLayout.Kind.STATUS && k.kind() != KeyLayout.Kind.AUDIT).orElse(false);
    }

    private Stored<NodeRecord> verifyNode(Change change) {
        try {
            return Stored.valid(nodeCheck.verify(change.key(), change.value()).value(), change.modRevision());
        } catch (RejectedValueException e) {
            return Stored.invalid(e.getMessage(), change.modRevision());
        }
    }

    private boolean verifiesAs(byte[] value, Class<?> type) {
        try {
            AuthoritySignature.verify(value, type, trusted);
            return true;
        } catch (RejectedValueException e) {
            return false;
        }
    }

    private void unindex(String node) {
        Stored<NodeRecord> old = nodes.get(node);
        if (old != null && old.isValid()) {
            byWireGuardKey.remove(old.value().wgPublicKey(), node);
            byIdentity.remove(old.value().identityKey(), node);
        }
    }

    private static <T> void put(Map<String, Stored<T>> map, String name, Change change, Class<T> type,
                                java.util.function.Function<T, String> nameInside) {
        if (change.isDelete()) {
            map.remove(name);
            return;
        }
        try {
            T value = Json.parse(change.value(), type);
            map.put(name, name.equals(nameInside.apply(value))
                    ? Stored.valid(value, change.modRevision())
                    : Stored.invalid("names " + nameInside.apply(value) + " but is stored under " + name, change.modRevision()));
        } catch (MalformedValueException e) {
            map.put(name, Stored.invalid(e.getMessage(), change.modRevision()));
        }
    }

    /** Node records and tombstones that do not verify: each is a problem an operator must look at. */
    public int unverifiedCount() {
        return read(unverified::size).orElse(0);
    }

    /** Waits until every change up to {@code target} has been applied. */
    public boolean awaitRevision(long target, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (revision < target) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                advanced.await(left, TimeUnit.NANOSECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Enrollments whose current request has no answer yet, in node-name order. */
    public List<PendingEnrollment> unansweredEnrollments() {
        lock.lock();
        try {
            return unanswered.stream().map(enrollments::get).toList();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The finished values retention applies to: every audit event; every answered request, except
     * the rotate requests of a rollout still under way (a resumed rollout reads them); every
     * answered enrollment, its request and its answer together. Nothing still waiting for an
     * answer is in it.
     */
    public Prunable prunable() {
        lock.lock();
        try {
            List<Finished> events = new ArrayList<>(audit.size());
            audit.forEach((id, event) -> events.add(Finished.of(layout.audit(id), event.modRevision(),
                    event.isValid() ? event.value().at() : null)));
            List<String> openRollouts = pending.values().stream()
                    .filter(r -> r.value().action() == RequestAction.ROLLOUT)
                    .map(r -> r.value().id() + ".")
                    .toList();
            List<Finished> answered = new ArrayList<>();
            requests.forEach((id, request) -> {
                if (!pending.containsKey(id) && openRollouts.stream().noneMatch(id::startsWith)) {
                    OperatorRequest r = request.value();
                    answered.add(Finished.of(layout.request(id), request.modRevision(),
                            r == null ? null : r.updatedAt() != null ? r.updatedAt() : r.createdAt()));
                }
            });
            Set<String> names = new java.util.TreeSet<>(enrollments.keySet());
            names.addAll(results.keySet());
            List<Finished> enrolled = new ArrayList<>();
            for (String node : names) {
                if (unanswered.contains(node)) {
                    continue;
                }
                List<Finished.Stamped> keys = new ArrayList<>(2);
                PendingEnrollment request = enrollments.get(node);
                if (request != null) {
                    keys.add(new Finished.Stamped(layout.enroll(node), request.modRevision()));
                }
                Stored<EnrollmentResult> result = results.get(node);
                keys.add(new Finished.Stamped(layout.enrollResult(node), result.modRevision()));
                enrolled.add(new Finished(keys, result.isValid() ? result.value().at() : null));
            }
            return new Prunable(events, answered, enrolled);
        } finally {
            lock.unlock();
        }
    }

    /** Requests still pending, in id order. */
    public List<Stored<OperatorRequest>> pendingRequests() {
        lock.lock();
        try {
            return List.copyOf(pending.values());
        } finally {
            lock.unlock();
        }
    }

    @Override
    public List<Stored<OperatorRequest>> pendingRequests(String node, RequestAction action) {
        return pendingRequests().stream().filter(r -> r.value().action() == action && node.equals(r.value().node())).toList();
    }

    @Override
    public long revision() {
        lock.lock();
        try {
            return revision;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Optional<Stored<NodeRecord>> node(String node) {
        return read(() -> nodes.get(node));
    }

    @Override
    public Optional<Stored<JoinToken>> token(String id) {
        return read(() -> tokens.get(id));
    }

    @Override
    public Optional<Stored<EnrollmentResult>> enrollResult(String node) {
        return read(() -> results.get(node));
    }

    @Override
    public Optional<String> nodeWithWireGuardKey(WireGuardPublicKey key) {
        return read(() -> byWireGuardKey.get(key));
    }

    @Override
    public Optional<String> nodeWithIdentity(Ed25519PublicKey key) {
        return read(() -> byIdentity.get(key));
    }

    @Override
    public boolean isTombstoned(Ed25519PublicKey identity) {
        return read(() -> tombstones.contains(identity.fingerprint()) ? Boolean.TRUE : null).isPresent();
    }

    @Override
    public boolean isAddressClaimed(String address) {
        return read(() -> ipam.containsKey(address) ? Boolean.TRUE : null).isPresent();
    }

    /** Every node record, valid or not, as of now. */
    public List<Stored<NodeRecord>> nodes() {
        return read(() -> List.copyOf(nodes.values())).orElse(List.of());
    }

    public int nodeCount() {
        return read(() -> nodes.size()).orElse(0);
    }

    private <T> Optional<T> read(java.util.function.Supplier<T> reader) {
        lock.lock();
        try {
            return Optional.ofNullable(reader.get());
        } finally {
            lock.unlock();
        }
    }
}
