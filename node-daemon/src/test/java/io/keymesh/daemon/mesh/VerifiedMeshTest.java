package io.keymesh.daemon.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.runtime.etcd.Change;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.RejectReason;
import io.keymesh.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The daemon's record rules with no I/O: what is accepted, what is refused, and that a refusal changes nothing. */
class VerifiedMeshTest {
    private final KeyLayout layout = KeyLayout.defaults();
    private final Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
    private final VerifiedMesh mesh = new VerifiedMesh(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH, Map.of());
    private final NodeRecord a1 = Samples.nodeRecord("a", 1, 1);
    private long revision = 10;

    private Change put(String key, byte[] value) {
        return new Change(key, value, ++revision);
    }

    private Change signed(NodeRecord record) {
        return put(layout.node(record.node()), AuthoritySignature.sign(record, authority));
    }

    private static NodeRecord atEpoch(NodeRecord r, long epoch) {
        return new NodeRecord(r.mesh(), r.node(), epoch, epoch, r.state(), r.identityKey(), r.wgPublicKey(), r.endpoints(), r.addresses(),
                r.allowedIps(), r.keyIssuedAt(), r.issuedAt(), null);
    }

    private List<RejectReason> reasons(List<Refusal> refusals) {
        return refusals.stream().map(Refusal::reason).toList();
    }

    @Test
    void aSignedRecordAtItsKeyIsAccepted() {
        assertEquals(List.of(), mesh.snapshot(List.of(signed(a1)), revision));
        assertEquals(a1, mesh.view().records().get("a"));
        assertEquals(revision, mesh.view().revision());
    }

    @Test
    void forgedWrongKeyMalformedAndForeignRecordsAreRefusedAndChangeNothing() {
        mesh.snapshot(List.of(signed(a1)), revision);
        MeshSnapshot before = mesh.view();
        NodeRecord hijack = atEpoch(Samples.nodeRecord("a", 1, 9), 5);
        Change forged = put(layout.node("a"), AuthoritySignature.sign(hijack, Ed25519PrivateKey.generate()));
        byte[] tampered = new String(AuthoritySignature.sign(atEpoch(a1, 6), authority), StandardCharsets.UTF_8)
                .replace("192.0.2.1", "192.0.2.66").getBytes(StandardCharsets.UTF_8);
        Change wrongKey = put(layout.node("b"), AuthoritySignature.sign(atEpoch(a1, 7), authority));
        Change malformed = put(layout.node("a"), "{\"mesh\":".getBytes(StandardCharsets.UTF_8));
        NodeRecord other = Samples.nodeRecord("a", 8, 1);
        NodeRecord foreign = new NodeRecord("other-mesh", "a", 8, 8, other.state(), other.identityKey(), other.wgPublicKey(),
                other.endpoints(), other.addresses(), other.allowedIps(), other.keyIssuedAt(), other.issuedAt(), null);
        Change wrongMesh = put(layout.node("a"), AuthoritySignature.sign(foreign, authority));

        List<Refusal> refused = mesh.changes(List.of(forged, put(layout.node("a"), tampered), wrongKey, malformed, wrongMesh), revision);

        assertEquals(List.of(RejectReason.UNKNOWN_SIGNING_KEY, RejectReason.BAD_SIGNATURE, RejectReason.WRONG_KEY_PATH,
                RejectReason.MALFORMED, RejectReason.WRONG_MESH), reasons(refused));
        assertEquals(before.records(), mesh.view().records());
    }

    @Test
    void anOlderEpochIsARollbackAndADifferentRecordAtTheSameEpochIsAnEquivocation() {
        NodeRecord a3 = atEpoch(a1, 3);
        mesh.snapshot(List.of(signed(a3)), revision);
        NodeRecord sameEpochOtherKey = atEpoch(Samples.nodeRecord("a", 3, 4), 3);

        List<Refusal> refused = mesh.changes(List.of(signed(a1), signed(sameEpochOtherKey)), revision);

        assertEquals(List.of(RejectReason.EPOCH_ROLLBACK, RejectReason.EQUIVOCATION), reasons(refused));
        assertEquals(a3, mesh.view().records().get("a"));
    }

    @Test
    void theEpochRuleSurvivesARestartThroughThePersistedHighestSeen() {
        mesh.snapshot(List.of(signed(atEpoch(a1, 4))), revision);
        VerifiedMesh restarted = new VerifiedMesh(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH, mesh.highestSeen());

        assertEquals(List.of(RejectReason.EPOCH_ROLLBACK), reasons(restarted.snapshot(List.of(signed(atEpoch(a1, 2))), revision)));
        assertTrue(restarted.view().records().isEmpty());
    }

    @Test
    void aDeletionOrAKeyMissingFromASnapshotKeepsTheLastVerifiedRecord() {
        NodeRecord b1 = Samples.nodeRecord("b", 1, 2);
        mesh.snapshot(List.of(signed(a1), signed(b1)), revision);

        assertEquals(List.of(RejectReason.UNSIGNED_DELETE), reasons(mesh.changes(List.of(Change.delete(layout.node("a"), ++revision)), revision)));
        assertEquals(List.of(), reasons(mesh.snapshot(List.of(signed(b1)), revision)), "the same absence is reported once");
        assertEquals(List.of(RejectReason.UNSIGNED_DELETE), reasons(mesh.snapshot(List.of(signed(a1)), revision)), "b is missing now");

        assertEquals(Map.of("a", a1, "b", b1), mesh.view().records());
    }

    @Test
    void aNewerEpochReplacesTheRecord() {
        mesh.snapshot(List.of(signed(a1)), revision);
        NodeRecord a2 = atEpoch(Samples.nodeRecord("a", 2, 1), 2);
        assertEquals(List.of(), mesh.changes(List.of(signed(a2)), revision));
        assertEquals(a2, mesh.view().records().get("a"));
    }

    @Test
    void theMeshConfigMustBeSignedForThisMeshAndNeverGoBackInTime() {
        MeshConfig config = new MeshConfig(Samples.MESH, List.of(IpPrefix.parse("198.18.0.0/16")), 51820, 25, null, Samples.NOW);
        MeshConfig older = new MeshConfig(Samples.MESH, List.of(IpPrefix.parse("198.19.0.0/16")), 51820, 25, null, Samples.NOW.minusSeconds(60));

        assertTrue(mesh.config(AuthoritySignature.sign(config, authority)).isEmpty());
        assertEquals(RejectReason.UNKNOWN_SIGNING_KEY, mesh.config(AuthoritySignature.sign(config, Ed25519PrivateKey.generate())).orElseThrow().reason());
        assertEquals(RejectReason.EPOCH_ROLLBACK, mesh.config(AuthoritySignature.sign(older, authority)).orElseThrow().reason());
        assertEquals(RejectReason.UNSIGNED_DELETE, mesh.config(null).orElseThrow().reason());
        assertEquals(config, mesh.view().config());
    }

    @Test
    void aRefusedValueIsReportedOnceNotOnEveryReRead() {
        mesh.snapshot(List.of(signed(a1)), revision);
        Change forged = put(layout.node("a"), AuthoritySignature.sign(atEpoch(a1, 5), Ed25519PrivateKey.generate()));
        assertEquals(1, mesh.changes(List.of(forged), revision).size());
        assertEquals(List.of(), mesh.snapshot(List.of(forged), revision), "a re-read of the same forged value");
        Change forgedAgain = put(layout.node("a"), AuthoritySignature.sign(atEpoch(a1, 6), Ed25519PrivateKey.generate()));
        assertEquals(1, mesh.changes(List.of(forgedAgain), revision).size(), "a different forged value is news");
        assertEquals(a1, mesh.view().records().get("a"));
    }
}
