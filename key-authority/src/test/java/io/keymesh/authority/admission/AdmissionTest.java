package io.keymesh.authority.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.keymesh.schema.crypto.Digests;
import io.keymesh.authority.state.MeshCache;
import io.keymesh.runtime.etcd.Change;
import io.keymesh.authority.state.MeshCache.PendingEnrollment;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.SignedEnrollment;
import io.keymesh.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every admission rule, decided against a cache fed by hand: no etcd. */
class AdmissionTest {
    private static final Instant NOW = Samples.NOW;
    private final KeyLayout layout = KeyLayout.defaults();
    private final Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
    private final MeshCache cache = new MeshCache(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH);
    private final Admission admission = new Admission(Samples.MESH, new AddressPool(List.of(IpPrefix.parse("198.18.0.0/24"))));
    private final List<Change> state = new ArrayList<>();
    private long revision = 1;

    /** A host about to join: its keys and its join token. */
    private final class Host {
        final String node;
        final Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
        WireGuardPrivateKey wg = WireGuardPrivateKey.generate();
        JoinTokenSecret token = JoinTokenSecret.generate();

        Host(String node) {
            this.node = node;
        }

        EnrollmentRequest request() {
            return new EnrollmentRequest(Samples.MESH, node, EnrollmentKind.JOIN, identity.publicKey(), wg.publicKey(),
                    List.of(Endpoint.parse("192.0.2.9:51820")), token.id(), 0, NOW);
        }

        PendingEnrollment pending(byte[] value) {
            return new PendingEnrollment(node, value, Digests.sha256Hex(value), revision);
        }

        PendingEnrollment signed() {
            return pending(SignedEnrollment.sign(request(), identity, token.proofKey()));
        }
    }

    private void put(String key, byte[] value) {
        state.add(new Change(key, value, ++revision));
        cache.reset(state, revision);
    }

    private void issueToken(JoinTokenSecret secret, String boundNode, int uses, Instant expires) {
        JoinToken token = new JoinToken(secret.id(), secret.proofKey().publicKey(), boundNode, uses, expires, NOW.minusSeconds(60));
        put(layout.token(secret.id()), Json.toLine(Json.toTree(token)));
    }

    private Host hostWithToken(String node) {
        Host host = new Host(node);
        issueToken(host.token, null, 1, NOW.plus(Duration.ofHours(1)));
        return host;
    }

    private JoinDecision.Admit admitAndStore(Host host) {
        JoinDecision.Admit admit = assertInstanceOf(JoinDecision.Admit.class, admission.decide(host.signed(), cache, NOW));
        put(layout.node(host.node), AuthoritySignature.sign(admit.record(), authority));
        admit.claims().forEach(c -> put(layout.key(KeyLayout.Kind.IPAM, c.address()), Json.toLine(Json.toTree(c))));
        put(layout.token(admit.tokenAfter().id()), Json.toLine(Json.toTree(admit.tokenAfter())));
        return admit;
    }

    private void assertRejected(Rejection expected, JoinDecision decision) {
        assertRejected(expected, decision, "");
    }

    private void assertRejected(Rejection expected, JoinDecision decision, String why) {
        JoinDecision.Reject reject = assertInstanceOf(JoinDecision.Reject.class, decision, why + " " + decision);
        assertEquals(expected, reject.reason(), why + " " + reject.detail());
    }

    @Test
    void aValidJoinIsAdmittedAtEpochOneWithAnAddressAndUsesTheToken() {
        Host host = hostWithToken("node-a");
        JoinDecision.Admit admit = assertInstanceOf(JoinDecision.Admit.class, admission.decide(host.signed(), cache, NOW));
        assertEquals(1, admit.record().epoch());
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), admit.record().addresses());
        assertEquals(admit.record().addresses(), admit.record().allowedIps());
        assertEquals(host.wg.publicKey(), admit.record().wgPublicKey());
        assertEquals(0, admit.tokenAfter().usesLeft());
        assertEquals(0, admit.nodeRevision());
    }

    @Test
    void theSameIdentityAndKeyAgainGetsItsRecordBackUnchanged() {
        Host host = hostWithToken("node-a");
        JoinDecision.Admit first = admitAndStore(host);
        JoinDecision.AlreadyAdmitted again = assertInstanceOf(JoinDecision.AlreadyAdmitted.class,
                admission.decide(host.signed(), cache, NOW.plusSeconds(5)));
        assertEquals(first.record(), again.record());
    }

    @Test
    void aBadSignatureIsRefused() {
        Host host = hostWithToken("node-a");
        byte[] value = new String(SignedEnrollment.sign(host.request(), host.identity, host.token.proofKey()), StandardCharsets.UTF_8)
                .replace("192.0.2.9:51820", "192.0.2.66:51820").getBytes(StandardCharsets.UTF_8);
        assertRejected(Rejection.BAD_SIGNATURE, admission.decide(host.pending(value), cache, NOW));
    }

    @Test
    void malformedAndOversizedJsonAreRefused() {
        Host host = hostWithToken("node-a");
        assertRejected(Rejection.MALFORMED, admission.decide(host.pending("{\"node\":".getBytes(StandardCharsets.UTF_8)), cache, NOW));
        assertRejected(Rejection.MALFORMED, admission.decide(host.pending("{\"node\":\"node-a\"}".getBytes(StandardCharsets.UTF_8)), cache, NOW));
        assertRejected(Rejection.OVERSIZED, admission.decide(host.pending(new byte[Json.MAX_VALUE_BYTES + 1]), cache, NOW));
    }

    @Test
    void aKeyThatIsNoCurvePointOrAFractionIsRefusedAsMalformed() {
        Host host = hostWithToken("node-a");
        byte[] notAPoint = new byte[32];
        java.util.Random random = new java.util.Random(11);
        do {
            random.nextBytes(notAPoint);
        } while (org.bouncycastle.math.ec.rfc8032.Ed25519.validatePublicKeyFull(notAPoint, 0));
        String json = new String(SignedEnrollment.sign(host.request(), host.identity, host.token.proofKey()), StandardCharsets.UTF_8);
        String badPoint = json.replace(host.identity.publicKey().base64(), java.util.Base64.getEncoder().encodeToString(notAPoint));
        assertRejected(Rejection.MALFORMED, admission.decide(host.pending(badPoint.getBytes(StandardCharsets.UTF_8)), cache, NOW));
        String fraction = json.replace("\"baseEpoch\":0", "\"baseEpoch\":0.5");
        assertRejected(Rejection.MALFORMED, admission.decide(host.pending(fraction.getBytes(StandardCharsets.UTF_8)), cache, NOW));
    }

    @Test
    void anInvalidNameIsRefused() {
        Host host = hostWithToken("node-a");
        byte[] value = ("{\"node\":\"Node_A\",\"mesh\":\"" + Samples.MESH + "\"}").getBytes(StandardCharsets.UTF_8);
        assertRejected(Rejection.INVALID_NAME, admission.decide(host.pending(value), cache, NOW));
    }

    @Test
    void aRequestUnderAnotherNodesKeyIsRefused() {
        Host host = hostWithToken("node-a");
        PendingEnrollment signed = host.signed();
        PendingEnrollment moved = new PendingEnrollment("node-b", signed.value(), signed.digest(), signed.modRevision());
        assertRejected(Rejection.WRONG_KEY_PATH, admission.decide(moved, cache, NOW));
    }

    @Test
    void unknownExpiredSpentBoundAndUnprovenTokensAreRefused() {
        Host unknown = new Host("node-a");
        assertRejected(Rejection.UNKNOWN_TOKEN, admission.decide(unknown.signed(), cache, NOW));

        Host expired = new Host("node-b");
        issueToken(expired.token, null, 1, NOW.minusSeconds(1));
        assertRejected(Rejection.EXPIRED_TOKEN, admission.decide(expired.signed(), cache, NOW));

        Host spent = new Host("node-c");
        issueToken(spent.token, null, 0, NOW.plus(Duration.ofHours(1)));
        assertRejected(Rejection.SPENT_TOKEN, admission.decide(spent.signed(), cache, NOW));

        Host bound = new Host("node-d");
        issueToken(bound.token, "node-z", 1, NOW.plus(Duration.ofHours(1)));
        assertRejected(Rejection.TOKEN_BOUND_TO_OTHER_NODE, admission.decide(bound.signed(), cache, NOW));

        // Right token id, wrong secret: the proof does not verify.
        Host guesser = new Host("node-e");
        JoinTokenSecret real = JoinTokenSecret.generate();
        issueToken(real, null, 1, NOW.plus(Duration.ofHours(1)));
        guesser.token = JoinTokenSecret.parse(real.id() + "." + JoinTokenSecret.generate().reveal().split("\\.")[1]);
        assertRejected(Rejection.BAD_TOKEN_PROOF, admission.decide(guesser.signed(), cache, NOW));
    }

    @Test
    void aTokenWithOneUseAdmitsOneNodeOnly() {
        Host first = hostWithToken("node-a");
        admitAndStore(first);
        Host second = new Host("node-b");
        second.token = first.token;
        assertRejected(Rejection.SPENT_TOKEN, admission.decide(second.signed(), cache, NOW));
    }

    @Test
    void duplicateWireGuardAndIdentityKeysAreRefused() {
        Host first = hostWithToken("node-a");
        admitAndStore(first);
        Host sameWg = hostWithToken("node-b");
        sameWg.wg = first.wg;
        assertRejected(Rejection.DUPLICATE_KEY, admission.decide(sameWg.signed(), cache, NOW));

        Host sameIdentity = hostWithToken("node-c");
        byte[] value = SignedEnrollment.sign(new EnrollmentRequest(Samples.MESH, "node-c", EnrollmentKind.JOIN,
                first.identity.publicKey(), sameIdentity.wg.publicKey(), List.of(), sameIdentity.token.id(), 0, NOW),
                first.identity, sameIdentity.token.proofKey());
        assertRejected(Rejection.DUPLICATE_KEY, admission.decide(sameIdentity.pending(value), cache, NOW));
    }

    @Test
    void anotherIdentityForAnAdmittedNameIsRefused() {
        admitAndStore(hostWithToken("node-a"));
        assertRejected(Rejection.NODE_NAME_TAKEN, admission.decide(hostWithToken("node-a").signed(), cache, NOW));
    }

    @Test
    void aTombstonedIdentityIsRefused() {
        Host host = hostWithToken("node-a");
        RevocationTombstone tombstone = new RevocationTombstone("node-a", host.identity.publicKey(), 2, "revoked", NOW);
        put(layout.revoked(host.identity.publicKey().fingerprint()), AuthoritySignature.sign(tombstone, authority));
        assertRejected(Rejection.TOMBSTONED_IDENTITY, admission.decide(host.signed(), cache, NOW));
    }

    @Test
    void aTombstoneThatDoesNotVerifyStillBlocksItsIdentity() {
        // Fail closed: it may be genuine, signed by a key the configuration no longer trusts.
        Host host = hostWithToken("node-a");
        RevocationTombstone tombstone = new RevocationTombstone("node-a", host.identity.publicKey(), 2, "revoked", NOW);
        put(layout.revoked(host.identity.publicKey().fingerprint()), AuthoritySignature.sign(tombstone, Ed25519PrivateKey.generate()));
        assertRejected(Rejection.TOMBSTONED_IDENTITY, admission.decide(host.signed(), cache, NOW));
        assertEquals(1, cache.unverifiedCount());
    }

    @Test
    void aNewIdentityAfterRevocationContinuesTheEpoch() {
        Host old = hostWithToken("node-a");
        JoinDecision.Admit admitted = admitAndStore(old);
        RevokeDecision.Revoke revoke = assertInstanceOf(RevokeDecision.Revoke.class, RevokeDecision.decide("node-a", cache, NOW));
        assertEquals(2, revoke.revoked().epoch());
        assertEquals(List.of("198.18.0.1"), revoke.releasedAddresses());
        put(layout.node("node-a"), AuthoritySignature.sign(revoke.revoked(), authority));
        put(layout.revoked(old.identity.publicKey().fingerprint()), AuthoritySignature.sign(revoke.tombstone(), authority));
        assertRejected(Rejection.TOMBSTONED_IDENTITY, admission.decide(old.signed(), cache, NOW));

        JoinDecision.Admit again = assertInstanceOf(JoinDecision.Admit.class,
                admission.decide(hostWithToken("node-a").signed(), cache, NOW));
        assertEquals(3, again.record().epoch());
        assertEquals(admitted.record().epoch() + 2, again.record().epoch());
    }

    @Test
    void revokingAnUnknownOrRevokedNodeIsRefused() {
        assertEquals(Rejection.UNKNOWN_NODE,
                assertInstanceOf(RevokeDecision.Reject.class, RevokeDecision.decide("ghost", cache, NOW)).reason());
        admitAndStore(hostWithToken("node-a"));
        RevokeDecision.Revoke revoke = assertInstanceOf(RevokeDecision.Revoke.class, RevokeDecision.decide("node-a", cache, NOW));
        put(layout.node("node-a"), AuthoritySignature.sign(revoke.revoked(), authority));
        assertEquals(Rejection.ALREADY_REVOKED,
                assertInstanceOf(RevokeDecision.Reject.class, RevokeDecision.decide("node-a", cache, NOW)).reason());
    }

    @Test
    void aNameWhoseRecordDoesNotVerifyIsNeitherJoinedNorRevoked() {
        // After an authority key change that forgot to trust the old key, nobody may take over the
        // name of an existing node at epoch 1, and revoke says why it cannot act.
        NodeRecord unverifiable = Samples.nodeRecord("node-a", 7, 3);
        put(layout.node("node-a"), AuthoritySignature.sign(unverifiable, Ed25519PrivateKey.generate()));
        assertRejected(Rejection.UNVERIFIABLE_RECORD, admission.decide(hostWithToken("node-a").signed(), cache, NOW));
        assertEquals(Rejection.UNVERIFIABLE_RECORD,
                assertInstanceOf(RevokeDecision.Reject.class, RevokeDecision.decide("node-a", cache, NOW)).reason());
        assertEquals(1, cache.unverifiedCount());
    }

    @Test
    void aTokenStoredUnderAnotherIdIsNotATokenAtAll() {
        Host host = new Host("node-a");
        JoinToken token = new JoinToken(host.token.id(), host.token.proofKey().publicKey(), null, 1, NOW.plusSeconds(3600), NOW);
        put(layout.token("t-other-key"), Json.toLine(Json.toTree(token)));
        assertRejected(Rejection.UNKNOWN_TOKEN, admission.decide(host.signed(), cache, NOW));
    }

    private PendingEnrollment rotation(Host host, WireGuardPrivateKey next, long baseEpoch, Ed25519PrivateKey signer) {
        byte[] value = SignedEnrollment.sign(new EnrollmentRequest(Samples.MESH, host.node, EnrollmentKind.ROTATE,
                signer.publicKey(), next.publicKey(), List.of(), null, baseEpoch, NOW), signer, null);
        return host.pending(value);
    }

    private void mark(NodeRecord record) {
        put(layout.node(record.node()), AuthoritySignature.sign(RotationMark.marked(record, NOW), authority));
    }

    private void request(String id, RequestAction action, String node, Ed25519PrivateKey identity) {
        OperatorRequest request = OperatorRequest.pending(id, action, node, identity == null ? null : identity.publicKey(), NOW);
        put(layout.request(id), Json.toLine(Json.toTree(request)));
    }

    @Test
    void aRotationNobodyAskedForIsRefused() {
        Host host = hostWithToken("node-a");
        admitAndStore(host);
        assertRejected(Rejection.ROTATION_NOT_REQUESTED, admission.decide(rotation(host, WireGuardPrivateKey.generate(), 1, host.identity),
                cache, NOW));
    }

    @Test
    void aRequestedRotationIsAdmittedAtTheNextEpochWithTheSameAddressesAndCompletesTheRotateRequests() {
        Host host = hostWithToken("node-a");
        NodeRecord before = admitAndStore(host).record();
        request("r-1", RequestAction.ROTATE, "node-a", null);
        request("r-2", RequestAction.REVOKE, "node-a", null);
        mark(before);
        WireGuardPrivateKey next = WireGuardPrivateKey.generate();

        JoinDecision.Rotate rotate = assertInstanceOf(JoinDecision.Rotate.class,
                admission.decide(rotation(host, next, 1, host.identity), cache, NOW.plusSeconds(5)));

        NodeRecord after = rotate.record();
        assertEquals(2, after.epoch());
        assertEquals(3, after.serial(), "join, mark, rotation");
        assertEquals(next.publicKey(), after.wgPublicKey());
        assertEquals(before.addresses(), after.addresses());
        assertEquals(before.identityKey(), after.identityKey());
        assertEquals(NOW.plusSeconds(5), after.keyIssuedAt());
        assertEquals(false, after.isRotationRequested(), "the mark is cleared");
        assertEquals(NOW, rotate.markedAt());
        assertEquals(List.of("r-1"), rotate.completes().stream().map(r -> r.value().id()).toList(), "only the rotate requests");
    }

    @Test
    void aRotationFromAnOldEpochOrByAnotherIdentityIsRefusedAndOneAlreadyCommittedIsAnsweredAgain() {
        Host host = hostWithToken("node-a");
        NodeRecord before = admitAndStore(host).record();
        mark(before);
        assertRejected(Rejection.STALE_EPOCH, admission.decide(rotation(host, WireGuardPrivateKey.generate(), 0, host.identity), cache, NOW));
        assertRejected(Rejection.NOT_THIS_IDENTITY,
                admission.decide(rotation(host, WireGuardPrivateKey.generate(), 1, Ed25519PrivateKey.generate()), cache, NOW));

        WireGuardPrivateKey next = WireGuardPrivateKey.generate();
        JoinDecision.Rotate rotate = assertInstanceOf(JoinDecision.Rotate.class,
                admission.decide(rotation(host, next, 1, host.identity), cache, NOW));
        put(layout.node("node-a"), AuthoritySignature.sign(rotate.record(), authority));
        assertInstanceOf(JoinDecision.AlreadyAdmitted.class, admission.decide(rotation(host, next, 1, host.identity), cache, NOW),
                "a request repeated after the commit gets the committed record");
    }

    @Test
    void aKeyRotatedToEarlierInABatchCannotBeClaimedByALaterJoinInThatBatch() {
        Host host = hostWithToken("node-a");
        mark(admitAndStore(host).record());
        WireGuardPrivateKey next = WireGuardPrivateKey.generate();
        BatchView batch = new BatchView(cache);
        batch.add(admission.decide(rotation(host, next, 1, host.identity), batch, NOW));
        Host thief = hostWithToken("node-b");
        thief.wg = next;
        assertRejected(Rejection.DUPLICATE_KEY, admission.decide(thief.signed(), batch, NOW));
    }

    @Test
    void aNewIdentityForATakenNameNeedsAReprovisionAndThenTakesOverTheAddressAndFencesTheOldOne() {
        Host old = hostWithToken("node-a");
        NodeRecord before = admitAndStore(old).record();
        Host reimaged = hostWithToken("node-a");
        assertRejected(Rejection.NODE_NAME_TAKEN, admission.decide(reimaged.signed(), cache, NOW));

        request("r-8", RequestAction.REPROVISION, "node-a", Ed25519PrivateKey.generate());
        request("r-9", RequestAction.REPROVISION, "node-a", reimaged.identity);
        JoinDecision.Admit admit = assertInstanceOf(JoinDecision.Admit.class, admission.decide(reimaged.signed(), cache, NOW));

        assertEquals(2, admit.record().epoch());
        assertEquals(reimaged.identity.publicKey(), admit.record().identityKey());
        assertEquals(before.addresses(), admit.record().addresses(), "the name keeps its overlay address");
        assertEquals(List.of(), admit.claims(), "no new address claimed");
        assertEquals(old.identity.publicKey(), admit.replaced().identityKey(), "the old identity is tombstoned");
        assertEquals(List.of("r-9"), admit.completes().stream().map(r -> r.value().id()).toList());
        assertEquals(List.of("r-8"), admit.supersedes().stream().map(r -> r.value().id()).toList(),
                "an older authorization for the name is void once another identity is admitted");

        Host stranger = hostWithToken("node-a");
        assertRejected(Rejection.NODE_NAME_TAKEN, admission.decide(stranger.signed(), cache, NOW),
                "the reprovision authorizes one identity, not any");
    }

    @Test
    void anExpiredReprovisionAuthorizesNobodyEvenBeforeAnyPassAnsweredIt() {
        Host old = hostWithToken("node-a");
        admitAndStore(old);
        Host reimaged = hostWithToken("node-a");
        request("r-10", RequestAction.REPROVISION, "node-a", reimaged.identity);
        assertRejected(Rejection.NODE_NAME_TAKEN,
                admission.decide(reimaged.signed(), cache, NOW.plus(Admission.REPROVISION_VALID).plusSeconds(1)),
                "a day-old authorization is void, answered or not");
    }

    @Test
    void aJoinForAnotherMeshIsRefused() {
        Host host = hostWithToken("node-a");
        byte[] value = SignedEnrollment.sign(new EnrollmentRequest("other-mesh", "node-a", EnrollmentKind.JOIN, host.identity.publicKey(),
                host.wg.publicKey(), List.of(), host.token.id(), 0, NOW), host.identity, host.token.proofKey());
        assertRejected(Rejection.WRONG_MESH, admission.decide(host.pending(value), cache, NOW));
    }

    @Test
    void joinsDecidedInOneBatchSeeEachOthersAddressesKeysAndTokenUses() {
        JoinTokenSecret shared = JoinTokenSecret.generate();
        issueToken(shared, null, 2, NOW.plus(Duration.ofHours(1)));
        BatchView batch = new BatchView(cache);
        List<Host> hosts = List.of(new Host("b1"), new Host("b2"), new Host("b3"));
        hosts.forEach(h -> h.token = shared);
        hosts.get(1).wg = WireGuardPrivateKey.generate();

        JoinDecision.Admit first = assertInstanceOf(JoinDecision.Admit.class, admission.decide(hosts.get(0).signed(), batch, NOW));
        batch.add(first);
        JoinDecision.Admit second = assertInstanceOf(JoinDecision.Admit.class, admission.decide(hosts.get(1).signed(), batch, NOW));
        batch.add(second);
        assertEquals(List.of(IpPrefix.parse("198.18.0.1/32")), first.record().addresses());
        assertEquals(List.of(IpPrefix.parse("198.18.0.2/32")), second.record().addresses());
        assertEquals(1, first.tokenAfter().usesLeft());
        assertEquals(0, second.tokenAfter().usesLeft());
        assertEquals(first.tokenRevision(), second.tokenRevision(), "one transaction compares the token once");
        assertRejected(Rejection.SPENT_TOKEN, admission.decide(hosts.get(2).signed(), batch, NOW));

        Host sameKey = hostWithToken("b4");
        sameKey.wg = hosts.get(0).wg;
        assertRejected(Rejection.DUPLICATE_KEY, admission.decide(sameKey.signed(), batch, NOW));
        // The cache itself is untouched until the batch commits.
        assertEquals(false, cache.isAddressClaimed("198.18.0.1"));
    }
}
