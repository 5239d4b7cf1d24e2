package io.keymesh.authority;

import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.authority.admission.JoinDecision;
import io.keymesh.authority.admission.Rejection;
import io.keymesh.authority.admission.RotationMark;
import io.keymesh.authority.admission.RevokeDecision;
import io.keymesh.authority.retention.Finished;
import io.keymesh.authority.state.MeshCache.PendingEnrollment;
import io.keymesh.authority.state.Stored;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.AuditEventType;
import io.keymesh.schema.record.AuthorityKeyInfo;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestStatus;
import io.keymesh.schema.verify.AuthoritySignature;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the leader's decisions into the conditions and operations of one etcd transaction each:
 * the request still as decided, the records it read unchanged, new address keys absent; then
 * the signed record, the claims, the token, the answer and the audit line, all or nothing.
 */
final class LeaderTransactions {
    private static final DateTimeFormatter AUDIT_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The conditions and operations of one transaction. */
    record Plan(List<Cmp> conditions, List<Op> ops) {
    }

    /**
     * Collects a transaction's conditions and operations by key: the first condition on a key
     * stays (a batch reads each key once), the last write to a key wins (etcd refuses two writes
     * to one key in one transaction, and a batch updates its token once per admission).
     */
    static final class PlanBuilder {
        private final Map<String, Cmp> conditions = new LinkedHashMap<>();
        private final Map<String, Op> ops = new LinkedHashMap<>();

        void condition(String key, Cmp cmp) {
            conditions.putIfAbsent(key, cmp);
        }

        void put(String key, byte[] value) {
            ops.remove(key);
            ops.put(key, Op.put(EtcdBytes.key(key), EtcdBytes.value(value), PutOption.DEFAULT));
        }

        void delete(String key) {
            ops.remove(key);
            ops.put(key, Op.delete(EtcdBytes.key(key), DeleteOption.DEFAULT));
        }

        int size() {
            return Math.max(conditions.size(), ops.size());
        }

        Plan build() {
            return new Plan(List.copyOf(conditions.values()), List.copyOf(ops.values()));
        }
    }

    /**
     * Bounds the requests one commit completes (etcd caps a transaction's operations); any left
     * pending are carried out by the next rotation, which they then ask for.
     */
    static final int MAX_COMPLETED_PER_COMMIT = 8;

    private final KeyLayout layout;
    private final Ed25519PrivateKey signingKey;

    LeaderTransactions(KeyLayout layout, Ed25519PrivateKey signingKey) {
        this.layout = layout;
        this.signingKey = signingKey;
    }

    /**
     * Adds one answered enrollment to {@code plan}; a batch adds several to one plan.
     *
     * @param auditRejection false when the node's last answer was already this rejection, so a
     *                       host (or anyone) rewriting a bad request does not grow the audit log
     */
    void addJoin(PlanBuilder plan, PendingEnrollment pending, JoinDecision decision, boolean auditRejection, Instant now) {
        String node = pending.node();
        plan.condition(layout.enroll(node), modRevision(layout.enroll(node), pending.modRevision()));
        if (decision instanceof JoinDecision.Admit admit) {
            NodeRecord record = admit.record();
            String tokenKey = layout.token(admit.tokenAfter().id());
            plan.condition(layout.node(node), modRevision(layout.node(node), admit.nodeRevision()));
            plan.condition(tokenKey, modRevision(tokenKey, admit.tokenRevision()));
            plan.put(layout.node(node), AuthoritySignature.sign(record, signingKey));
            for (var claim : admit.claims()) {
                String key = layout.key(KeyLayout.Kind.IPAM, claim.address());
                plan.condition(key, new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.version(0)));
                plan.put(key, Json.toLine(Json.toTree(claim)));
            }
            plan.put(tokenKey, Json.toLine(Json.toTree(admit.tokenAfter())));
            result(plan, pending, EnrollmentOutcome.ADMITTED, record.epoch(), null, null, now);
            if (admit.replaced() != null) {
                plan.put(layout.revoked(admit.replaced().identityKey().fingerprint()), AuthoritySignature.sign(admit.replaced(), signingKey));
                complete(plan, admit.completes(), now);
                for (Stored<OperatorRequest> other : admit.supersedes().subList(0, Math.min(admit.supersedes().size(), MAX_COMPLETED_PER_COMMIT))) {
                    String key = layout.request(other.value().id());
                    plan.condition(key, modRevision(key, other.modRevision()));
                    plan.put(key, Json.toLine(Json.toTree(other.value().completed(RequestStatus.REJECTED,
                            "superseded: identity " + record.identityKey().keyId() + " was admitted for " + node, now))));
                }
                audit(plan, AuditEventType.REPROVISIONED, node, record.epoch(), null, "identity " + admit.replaced().identityKey().keyId()
                        + " replaced by " + record.identityKey().keyId() + " using token " + admit.tokenAfter().id(), now);
            } else {
                audit(plan, AuditEventType.ADMITTED, node, record.epoch(), null,
                        "admitted with overlay " + record.addresses() + " using token " + admit.tokenAfter().id(), now);
            }
        } else if (decision instanceof JoinDecision.Rotate rotate) {
            NodeRecord record = rotate.record();
            plan.condition(layout.node(node), modRevision(layout.node(node), rotate.nodeRevision()));
            plan.put(layout.node(node), AuthoritySignature.sign(record, signingKey));
            result(plan, pending, EnrollmentOutcome.ADMITTED, record.epoch(), null, null, now);
            complete(plan, rotate.completes(), now);
            audit(plan, AuditEventType.ROTATED, node, record.epoch(), null, "WireGuard key rotated to " + record.wgPublicKey(), now);
        } else if (decision instanceof JoinDecision.AlreadyAdmitted already) {
            result(plan, pending, EnrollmentOutcome.ADMITTED, already.record().epoch(), null, null, now);
        } else if (decision instanceof JoinDecision.Reject reject) {
            result(plan, pending, EnrollmentOutcome.REJECTED, 0, reject.reason().code(), reject.detail(), now);
            if (auditRejection) {
                audit(plan, AuditEventType.REJECTED, node, 0, reject.reason().code(), reject.detail(), now);
            }
        }
    }

    Plan forRevoke(Stored<OperatorRequest> request, RevokeDecision decision, Instant now) {
        OperatorRequest r = request.value();
        PlanBuilder plan = new PlanBuilder();
        plan.condition(layout.request(r.id()), modRevision(layout.request(r.id()), request.modRevision()));
        if (decision instanceof RevokeDecision.Revoke revoke) {
            NodeRecord record = revoke.revoked();
            plan.condition(layout.node(record.node()), modRevision(layout.node(record.node()), revoke.nodeRevision()));
            plan.put(layout.node(record.node()), AuthoritySignature.sign(record, signingKey));
            plan.put(layout.revoked(record.identityKey().fingerprint()), AuthoritySignature.sign(revoke.tombstone(), signingKey));
            for (String address : revoke.releasedAddresses()) {
                plan.delete(layout.ipam(IpAddresses.parse(address)));
            }
            plan.put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.DONE, null, now))));
            audit(plan, AuditEventType.REVOKED, record.node(), record.epoch(), null, "revoked by request " + r.id(), now);
        } else if (decision instanceof RevokeDecision.Reject reject) {
            String why = reject.reason().code() + ": " + reject.detail();
            plan.put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.REJECTED, why, now))));
            audit(plan, AuditEventType.REJECTED, r.node(), 0, reject.reason().code(), reject.detail(), now);
        }
        return plan.build();
    }

    /** Phase one of a rotation: the marked record (the request stays pending until the rotation commits). */
    Plan forRotationMark(Stored<OperatorRequest> request, RotationMark.Mark mark) {
        OperatorRequest r = request.value();
        PlanBuilder plan = new PlanBuilder();
        plan.condition(layout.request(r.id()), modRevision(layout.request(r.id()), request.modRevision()));
        plan.condition(layout.node(r.node()), modRevision(layout.node(r.node()), mark.nodeRevision()));
        plan.put(layout.node(r.node()), AuthoritySignature.sign(mark.marked(), signingKey));
        return plan.build();
    }

    /** A rotation the leader starts on its own (the key is older than the maximum age): just the mark. */
    Plan forAutomaticRotation(RotationMark.Mark mark) {
        PlanBuilder plan = new PlanBuilder();
        String key = layout.node(mark.marked().node());
        plan.condition(key, modRevision(key, mark.nodeRevision()));
        plan.put(key, AuthoritySignature.sign(mark.marked(), signingKey));
        return plan.build();
    }

    /** An operator request answered as refused, with the reason and an audit line. */
    Plan forRejectedRequest(Stored<OperatorRequest> request, Rejection reason, String detail, Instant now) {
        OperatorRequest r = request.value();
        PlanBuilder plan = new PlanBuilder();
        plan.condition(layout.request(r.id()), modRevision(layout.request(r.id()), request.modRevision()));
        plan.put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.REJECTED, reason.code() + ": " + detail, now))));
        audit(plan, AuditEventType.REJECTED, r.node(), 0, reason.code(), detail, now);
        return plan.build();
    }

    /** Marks requests done in the transaction that carries them out, so each one's mod revision is that commit. */
    private void complete(PlanBuilder plan, List<Stored<OperatorRequest>> requests, Instant now) {
        for (Stored<OperatorRequest> request : requests.subList(0, Math.min(requests.size(), MAX_COMPLETED_PER_COMMIT))) {
            String key = layout.request(request.value().id());
            plan.condition(key, modRevision(key, request.modRevision()));
            plan.put(key, Json.toLine(Json.toTree(request.value().completed(RequestStatus.DONE, null, now))));
        }
    }

    /**
     * Deletes expired values, each only if unchanged since it was read (a request answered again
     * meanwhile, an enrollment asked again, stays), as few transactions as etcd's operation limit
     * allows; the keys of one value are always in the same transaction.
     */
    static List<Plan> forPruning(List<Finished> expired, int maxKeysPerPlan) {
        List<Plan> plans = new java.util.ArrayList<>();
        PlanBuilder plan = new PlanBuilder();
        for (Finished value : expired) {
            if (plan.size() > 0 && plan.size() + value.keys().size() > maxKeysPerPlan) {
                plans.add(plan.build());
                plan = new PlanBuilder();
            }
            for (Finished.Stamped key : value.keys()) {
                plan.condition(key.key(), modRevision(key.key(), key.modRevision()));
                plan.delete(key.key());
            }
        }
        if (plan.size() > 0) {
            plans.add(plan.build());
        }
        return plans;
    }

    /** The signed mesh settings and this authority's public key, written at the start of each term. */
    Plan forTermStart(MeshConfig config, Instant now) {
        AuthorityKeyInfo key = new AuthorityKeyInfo(signingKey.publicKey().keyId(), signingKey.publicKey(), true, now);
        PlanBuilder plan = new PlanBuilder();
        plan.put(layout.config(), AuthoritySignature.sign(config, signingKey));
        plan.put(layout.authorityKey(key.keyId()), Json.toLine(Json.toTree(key)));
        return plan.build();
    }

    private void result(PlanBuilder plan, PendingEnrollment pending, EnrollmentOutcome outcome, long epoch, String reason,
                        String detail, Instant now) {
        EnrollmentResult result = new EnrollmentResult(pending.node(), pending.digest(), outcome, epoch, reason, detail, now);
        plan.put(layout.enrollResult(pending.node()), Json.toLine(Json.toTree(result)));
    }

    private void audit(PlanBuilder plan, AuditEventType type, String node, long epoch, String reason, String detail, Instant now) {
        byte[] suffix = new byte[4];
        RANDOM.nextBytes(suffix);
        String id = AUDIT_TIME.format(now) + "-" + HexFormat.of().formatHex(suffix);
        plan.put(layout.audit(id), Json.toLine(Json.toTree(new AuditEvent(id, now, type, node, epoch, reason, detail))));
    }

    private static Cmp modRevision(String key, long revision) {
        return new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.modRevision(revision));
    }
}
