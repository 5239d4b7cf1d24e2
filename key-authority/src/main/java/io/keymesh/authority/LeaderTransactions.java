package io.keymesh.authority;

import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.authority.admission.JoinDecision;
import io.keymesh.authority.admission.RevokeDecision;
import io.keymesh.authority.state.MeshCache.PendingEnrollment;
import io.keymesh.authority.state.Stored;
import io.keymesh.authority.store.EtcdBytes;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

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

    private final KeyLayout layout;
    private final Ed25519PrivateKey signingKey;

    LeaderTransactions(KeyLayout layout, Ed25519PrivateKey signingKey) {
        this.layout = layout;
        this.signingKey = signingKey;
    }

    Plan forJoin(PendingEnrollment pending, JoinDecision decision, Instant now) {
        List<Cmp> conditions = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        String node = pending.node();
        conditions.add(modRevision(layout.enroll(node), pending.modRevision()));
        if (decision instanceof JoinDecision.Admit admit) {
            NodeRecord record = admit.record();
            conditions.add(modRevision(layout.node(node), admit.nodeRevision()));
            conditions.add(modRevision(layout.token(admit.tokenAfter().id()), admit.tokenRevision()));
            ops.add(put(layout.node(node), AuthoritySignature.sign(record, signingKey)));
            for (var claim : admit.claims()) {
                String key = layout.key(KeyLayout.Kind.IPAM, claim.address());
                conditions.add(new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.version(0)));
                ops.add(put(key, Json.toLine(Json.toTree(claim))));
            }
            ops.add(put(layout.token(admit.tokenAfter().id()), Json.toLine(Json.toTree(admit.tokenAfter()))));
            ops.add(result(pending, EnrollmentOutcome.ADMITTED, record.epoch(), null, null, now));
            ops.add(audit(AuditEventType.ADMITTED, node, record.epoch(), null,
                    "admitted with overlay " + record.addresses() + " using token " + admit.tokenAfter().id(), now));
        } else if (decision instanceof JoinDecision.AlreadyAdmitted already) {
            ops.add(result(pending, EnrollmentOutcome.ADMITTED, already.record().epoch(), null, null, now));
        } else if (decision instanceof JoinDecision.Reject reject) {
            ops.add(result(pending, EnrollmentOutcome.REJECTED, 0, reject.reason().code(), reject.detail(), now));
            ops.add(audit(AuditEventType.REJECTED, node, 0, reject.reason().code(), reject.detail(), now));
        }
        return new Plan(conditions, ops);
    }

    Plan forRevoke(Stored<OperatorRequest> request, RevokeDecision decision, Instant now) {
        OperatorRequest r = request.value();
        List<Cmp> conditions = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        conditions.add(modRevision(layout.request(r.id()), request.modRevision()));
        if (decision instanceof RevokeDecision.Revoke revoke) {
            NodeRecord record = revoke.revoked();
            conditions.add(modRevision(layout.node(record.node()), revoke.nodeRevision()));
            ops.add(put(layout.node(record.node()), AuthoritySignature.sign(record, signingKey)));
            ops.add(put(layout.revoked(record.identityKey().fingerprint()), AuthoritySignature.sign(revoke.tombstone(), signingKey)));
            for (String address : revoke.releasedAddresses()) {
                ops.add(Op.delete(EtcdBytes.key(layout.ipam(IpAddresses.parse(address))), DeleteOption.DEFAULT));
            }
            ops.add(put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.DONE, null, now)))));
            ops.add(audit(AuditEventType.REVOKED, record.node(), record.epoch(), null, "revoked by request " + r.id(), now));
        } else if (decision instanceof RevokeDecision.Reject reject) {
            String why = reject.reason().code() + ": " + reject.detail();
            ops.add(put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.REJECTED, why, now)))));
            ops.add(audit(AuditEventType.REJECTED, r.node(), 0, reject.reason().code(), reject.detail(), now));
        }
        return new Plan(conditions, ops);
    }

    /** Requests this version does not carry out are answered at once, so nobody waits on them. */
    Plan forUnsupported(Stored<OperatorRequest> request, String why, Instant now) {
        OperatorRequest r = request.value();
        return new Plan(List.of(modRevision(layout.request(r.id()), request.modRevision())),
                List.of(put(layout.request(r.id()), Json.toLine(Json.toTree(r.completed(RequestStatus.REJECTED, "unsupported: " + why, now)))),
                        audit(AuditEventType.REJECTED, r.node(), 0, "unsupported", why, now)));
    }

    /** The signed mesh settings and this authority's public key, written at the start of each term. */
    Plan forTermStart(MeshConfig config, Instant now) {
        AuthorityKeyInfo key = new AuthorityKeyInfo(signingKey.publicKey().keyId(), signingKey.publicKey(), true, now);
        return new Plan(List.of(), List.of(
                put(layout.config(), AuthoritySignature.sign(config, signingKey)),
                put(layout.authorityKey(key.keyId()), Json.toLine(Json.toTree(key)))));
    }

    private Op result(PendingEnrollment pending, EnrollmentOutcome outcome, long epoch, String reason, String detail, Instant now) {
        EnrollmentResult result = new EnrollmentResult(pending.node(), pending.digest(), outcome, epoch, reason, detail, now);
        return put(layout.enrollResult(pending.node()), Json.toLine(Json.toTree(result)));
    }

    private Op audit(AuditEventType type, String node, long epoch, String reason, String detail, Instant now) {
        byte[] suffix = new byte[4];
        RANDOM.nextBytes(suffix);
        String id = AUDIT_TIME.format(now) + "-" + HexFormat.of().formatHex(suffix);
        AuditEvent event = new AuditEvent(id, now, type, node, epoch, reason, detail);
        return put(layout.audit(id), Json.toLine(Json.toTree(event)));
    }

    private static Cmp modRevision(String key, long revision) {
        return new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.modRevision(revision));
    }

    private static Op put(String key, byte[] value) {
        return Op.put(EtcdBytes.key(key), EtcdBytes.value(value), PutOption.DEFAULT);
    }
}
