package io.keymesh.authority.admission;

import com.fasterxml.jackson.databind.JsonNode;
import io.keymesh.authority.state.MeshCache.PendingEnrollment;
import io.keymesh.authority.state.MeshView;
import io.keymesh.authority.state.Stored;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeName;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.RejectReason;
import io.keymesh.schema.verify.RejectedValueException;
import io.keymesh.schema.verify.SignedEnrollment;
import java.net.InetAddress;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Decides one enrollment against the mesh as the leader last saw it. Pure: no I/O, no clock of
 * its own; the leader turns the decision into one guarded transaction.
 */
public final class Admission {
    /** How long a {@code keymesh reprovision} authorization stays usable. */
    public static final java.time.Duration REPROVISION_VALID = java.time.Duration.ofHours(24);

    private final String mesh;
    private final AddressPool pool;

    public Admission(String mesh, AddressPool pool) {
        this.mesh = mesh;
        this.pool = pool;
    }

    public JoinDecision decide(PendingEnrollment pending, MeshView view, Instant now) {
        if (pending.value().length > Json.MAX_VALUE_BYTES) {
            return reject(Rejection.OVERSIZED, pending.value().length + " bytes, more than " + Json.MAX_VALUE_BYTES);
        }
        Optional<JoinDecision.Reject> badName = checkName(pending.value());
        if (badName.isPresent()) {
            return badName.get();
        }
        SignedEnrollment signed;
        try {
            signed = SignedEnrollment.verify(pending.value());
        } catch (RejectedValueException e) {
            return reject(e.reason() == RejectReason.BAD_SIGNATURE ? Rejection.BAD_SIGNATURE : Rejection.MALFORMED, e.getMessage());
        }
        EnrollmentRequest request = signed.request();
        String node = pending.node();
        if (!request.node().equals(node)) {
            return reject(Rejection.WRONG_KEY_PATH, "request for node " + request.node() + " is stored under enroll/" + node);
        }
        if (!request.mesh().equals(mesh)) {
            return reject(Rejection.WRONG_MESH, "request is for mesh " + request.mesh() + ", this authority serves " + mesh);
        }
        if (view.isTombstoned(request.identityKey())) {
            return reject(Rejection.TOMBSTONED_IDENTITY, "identity " + request.identityKey().keyId() + " was revoked and can never enroll again");
        }

        Optional<Stored<NodeRecord>> existing = view.node(node);
        if (existing.isPresent() && !existing.get().isValid()) {
            // Fail closed: it may be a genuine record signed by a key this authority no longer trusts.
            return reject(Rejection.UNVERIFIABLE_RECORD, "nodes/" + node + " holds a record that does not verify ("
                    + existing.get().invalidReason() + "); trust its signing key again or delete it with etcdctl");
        }
        NodeRecord current = existing.map(Stored::value).orElse(null);
        if (request.kind() == EnrollmentKind.ROTATE) {
            return decideRotation(request, existing.orElse(null), view, now);
        }
        Stored<OperatorRequest> reprovision = null;
        if (current != null && current.isActive()) {
            if (!current.identityKey().equals(request.identityKey())) {
                // Expired authorizations are refused here too, not only when a pass answers them: a quiet
                // mesh may run no pass for days.
                reprovision = view.pendingRequests(node, RequestAction.REPROVISION).stream()
                        .filter(r -> r.value().identityKey().equals(request.identityKey()))
                        .filter(r -> !r.value().createdAt().plus(REPROVISION_VALID).isBefore(now))
                        .findFirst().orElse(null);
                if (reprovision == null) {
                    return reject(Rejection.NODE_NAME_TAKEN, "node " + node + " is held by another identity; authorize this one "
                            + "with 'keymesh reprovision " + node + " --identity " + request.identityKey().base64() + "'");
                }
            } else if (!current.wgPublicKey().equals(request.wgPublicKey())) {
                return reject(Rejection.NODE_NAME_TAKEN, "node " + node + " is already admitted with another WireGuard key");
            } else {
                return new JoinDecision.AlreadyAdmitted(current);
            }
        }

        Optional<JoinDecision.Reject> tokenProblem = checkToken(signed, request, view, now);
        if (tokenProblem.isPresent()) {
            return tokenProblem.get();
        }
        Stored<JoinToken> token = view.token(request.tokenId()).orElseThrow();

        Optional<String> wgHolder = view.nodeWithWireGuardKey(request.wgPublicKey());
        if (wgHolder.isPresent()) {
            return reject(Rejection.DUPLICATE_KEY, "WireGuard key is already recorded for node " + wgHolder.get());
        }
        Optional<String> identityHolder = view.nodeWithIdentity(request.identityKey());
        if (identityHolder.isPresent()) {
            return reject(Rejection.DUPLICATE_KEY, "identity key is already recorded for node " + identityHolder.get());
        }

        // Epochs and serials of a name never go back: a new identity continues from the old ones.
        long epoch = current == null ? 1 : current.epoch() + 1;
        long serial = current == null ? 1 : current.serial() + 1;
        JoinToken t = token.value();
        JoinToken tokenAfter = new JoinToken(t.id(), t.proofKey(), t.node(), t.usesLeft() - 1, t.expiresAt(), t.createdAt());
        long nodeRevision = existing.map(Stored::modRevision).orElse(0L);
        if (reprovision != null) {
            // A re-imaged host: the new identity takes over the name and its overlay addresses,
            // and the old identity is fenced for good.
            NodeRecord record = new NodeRecord(mesh, node, epoch, serial, NodeState.ACTIVE, request.identityKey(), request.wgPublicKey(),
                    request.endpoints(), current.addresses(), current.allowedIps(), now, now, null);
            RevocationTombstone tombstone = new RevocationTombstone(node, current.identityKey(), epoch, "reprovisioned", now);
            String authorizing = reprovision.value().id();
            // Every other pending reprovision of this name is void from now on: an old authorization
            // must never let an identity take the name back from the one admitted now.
            return new JoinDecision.Admit(record, List.of(), tokenAfter, nodeRevision, token.modRevision(), tombstone,
                    List.of(reprovision), view.pendingRequests(node, RequestAction.REPROVISION).stream()
                            .filter(r -> !r.value().id().equals(authorizing)).toList());
        }
        Optional<List<InetAddress>> addresses = pool.propose(view::isAddressClaimed);
        if (addresses.isEmpty()) {
            return reject(Rejection.ADDRESS_POOL_EXHAUSTED, "no free overlay address left in " + pool.cidrs());
        }
        List<IpPrefix> overlay = addresses.get().stream().map(IpPrefix::host).toList();
        NodeRecord record = new NodeRecord(mesh, node, epoch, serial, NodeState.ACTIVE, request.identityKey(), request.wgPublicKey(),
                request.endpoints(), overlay, overlay, now, now, null);
        List<AddressClaim> claims = addresses.get().stream().map(a -> AddressClaim.of(a, node)).toList();
        return new JoinDecision.Admit(record, claims, tokenAfter, nodeRevision, token.modRevision(), null, List.of(), List.of());
    }

    /**
     * Phase two of a rotation: the node, asked to rotate (the mark on its record), sends its next
     * WireGuard key signed with its identity, naming the epoch it rotates from. Admitted at the
     * next epoch, in place of the current key, with the same addresses.
     */
    private static JoinDecision decideRotation(EnrollmentRequest request, Stored<NodeRecord> stored, MeshView view, Instant now) {
        String node = request.node();
        if (stored == null) {
            return reject(Rejection.UNKNOWN_NODE, "no admitted node " + node + " to rotate");
        }
        NodeRecord current = stored.value();
        if (!current.identityKey().equals(request.identityKey())) {
            return reject(Rejection.NOT_THIS_IDENTITY, "node " + node + " is held by identity " + current.identityKey().keyId()
                    + ", the rotation is signed by " + request.identityKey().keyId());
        }
        if (!current.isActive()) {
            return reject(Rejection.ALREADY_REVOKED, "node " + node + " was revoked at epoch " + current.epoch());
        }
        if (current.wgPublicKey().equals(request.wgPublicKey())) {
            return new JoinDecision.AlreadyAdmitted(current); // the rotation committed; the node asked again
        }
        if (!current.isRotationRequested()) {
            return reject(Rejection.ROTATION_NOT_REQUESTED, "no rotation of " + node + " is requested; ask for one with 'keymesh rotate "
                    + node + "'");
        }
        if (request.baseEpoch() != current.epoch()) {
            return reject(Rejection.STALE_EPOCH, "the rotation starts from epoch " + request.baseEpoch() + ", but " + node
                    + " is at epoch " + current.epoch());
        }
        Optional<String> holder = view.nodeWithWireGuardKey(request.wgPublicKey());
        if (holder.isPresent()) {
            return reject(Rejection.DUPLICATE_KEY, "WireGuard key is already recorded for node " + holder.get());
        }
        NodeRecord rotated = new NodeRecord(current.mesh(), node, current.epoch() + 1, current.serial() + 1, NodeState.ACTIVE,
                current.identityKey(), request.wgPublicKey(), request.endpoints(), current.addresses(), current.allowedIps(), now, now,
                null);
        return new JoinDecision.Rotate(rotated, stored.modRevision(), current.rotationRequestedAt(),
                view.pendingRequests(node, RequestAction.ROTATE));
    }

    private static Optional<JoinDecision.Reject> checkName(byte[] value) {
        try {
            JsonNode name = Json.parseObject(value).get("node");
            if (name == null || !name.isTextual() || !NodeName.isValid(name.textValue())) {
                return Optional.of(reject(Rejection.INVALID_NAME,
                        "node name must be a lower-case DNS label (1 to 63 of a-z, 0-9, '-')"));
            }
            return Optional.empty();
        } catch (MalformedValueException e) {
            return Optional.of(reject(Rejection.MALFORMED, e.getMessage()));
        }
    }

    private static Optional<JoinDecision.Reject> checkToken(SignedEnrollment signed, EnrollmentRequest request,
                                                            MeshView view, Instant now) {
        Optional<Stored<JoinToken>> stored = view.token(request.tokenId());
        if (stored.isEmpty() || !stored.get().isValid()) {
            return Optional.of(reject(Rejection.UNKNOWN_TOKEN, "no join token " + request.tokenId()));
        }
        JoinToken token = stored.get().value();
        // The proof first: without the secret, nothing more about the token is revealed.
        if (!signed.tokenProofMatches(token.proofKey())) {
            return Optional.of(reject(Rejection.BAD_TOKEN_PROOF, "the request does not prove join token " + token.id()));
        }
        if (!now.isBefore(token.expiresAt())) {
            return Optional.of(reject(Rejection.EXPIRED_TOKEN, "join token " + token.id() + " expired at " + token.expiresAt()));
        }
        if (token.usesLeft() <= 0) {
            return Optional.of(reject(Rejection.SPENT_TOKEN, "join token " + token.id() + " has no uses left"));
        }
        if (token.node() != null && !token.node().equals(request.node())) {
            return Optional.of(reject(Rejection.TOKEN_BOUND_TO_OTHER_NODE,
                    "join token " + token.id() + " is for node " + token.node() + ", not " + request.node()));
        }
        return Optional.empty();
    }

    private static JoinDecision.Reject reject(Rejection reason, String detail) {
        return new JoinDecision.Reject(reason, detail.length() > 500 ? detail.substring(0, 500) : detail);
    }
}
