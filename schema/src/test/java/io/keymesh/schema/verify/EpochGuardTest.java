package io.keymesh.schema.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.testing.Samples;
import java.util.List;
import org.junit.jupiter.api.Test;

class EpochGuardTest {
    private final Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
    private final KeyLayout layout = KeyLayout.defaults();
    private final NodeRecordCheck check = new NodeRecordCheck(layout, TrustedKeys.of(authority.publicKey()), Samples.MESH);

    private Verified<NodeRecord> verified(NodeRecord record) throws RejectedValueException {
        return check.verify(layout.node(record.node()), AuthoritySignature.sign(record, authority));
    }

    private static NodeRecord at(NodeRecord base, long epoch, NodeState state) {
        return new NodeRecord(base.mesh(), base.node(), epoch, epoch, state, base.identityKey(), base.wgPublicKey(), base.endpoints(),
                base.addresses(), base.allowedIps(), base.keyIssuedAt(), base.issuedAt(), null);
    }

    @Test
    void higherEpochsAndTheSameRecordAgainAreAccepted() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 1, 1);
        guard.admit(verified(one));
        guard.admit(verified(one));
        guard.admit(verified(at(one, 3, NodeState.ACTIVE)));
        assertEquals(3, guard.seen("node-a").orElseThrow().epoch());
    }

    @Test
    void aReplayedOlderRecordIsARollbackAndChangesNothing() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 1, 1);
        Verified<NodeRecord> old = verified(one);
        guard.admit(old);
        guard.admit(verified(at(one, 2, NodeState.REVOKED)));
        RejectedValueException e = assertThrows(RejectedValueException.class, () -> guard.admit(old));
        assertEquals(RejectReason.EPOCH_ROLLBACK, e.reason());
        assertEquals(2, guard.seen("node-a").orElseThrow().epoch());
    }

    @Test
    void aDifferentRecordAtTheSameEpochIsAnEquivocation() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 4, 1);
        Verified<NodeRecord> first = verified(one);
        guard.admit(first);
        NodeRecord other = new NodeRecord(one.mesh(), one.node(), 4, 4, NodeState.ACTIVE, one.identityKey(), one.wgPublicKey(),
                List.of(), one.addresses(), one.allowedIps(), one.keyIssuedAt(), one.issuedAt(), null);
        assertEquals(RejectReason.EQUIVOCATION, assertThrows(RejectedValueException.class, () -> guard.admit(verified(other))).reason());
        assertEquals(new EpochGuard.Seen(4, 4, first.content()), guard.seen("node-a").orElseThrow(),
                "the first record stays the one remembered");
    }

    private static NodeRecord atSerial(NodeRecord base, long serial, boolean rotationRequested) {
        return new NodeRecord(base.mesh(), base.node(), base.epoch(), serial, base.state(), base.identityKey(), base.wgPublicKey(),
                base.endpoints(), base.addresses(), base.allowedIps(), base.keyIssuedAt(), base.issuedAt(),
                rotationRequested ? Samples.NOW : null);
    }

    @Test
    void aNewerSerialAtTheSameEpochIsAcceptedAndAnOlderOneIsARollback() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 2, 1);
        Verified<NodeRecord> unmarked = verified(one);
        guard.admit(unmarked);
        guard.admit(verified(atSerial(one, 3, true)));
        assertEquals(new EpochGuard.Seen(2, 3, verified(atSerial(one, 3, true)).content()), guard.seen("node-a").orElseThrow());
        assertEquals(RejectReason.EPOCH_ROLLBACK, assertThrows(RejectedValueException.class, () -> guard.admit(unmarked)).reason());
        assertEquals(RejectReason.EQUIVOCATION,
                assertThrows(RejectedValueException.class, () -> guard.admit(verified(atSerial(one, 3, false)))).reason());
    }

    @Test
    void aNewKeyWithoutANewEpochIsAnEquivocation() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 2, 1);
        guard.admit(verified(one));
        NodeRecord otherKey = new NodeRecord(one.mesh(), one.node(), 2, 3, one.state(), one.identityKey(),
                io.keymesh.schema.crypto.WireGuardPrivateKey.generate().publicKey(), one.endpoints(), one.addresses(), one.allowedIps(),
                one.keyIssuedAt(), one.issuedAt(), null);
        assertEquals(RejectReason.EQUIVOCATION, assertThrows(RejectedValueException.class, () -> guard.admit(verified(otherKey))).reason());
    }

    @Test
    void aLowerEpochIsARollbackEvenWithAHigherSerial() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 3, 1);
        guard.admit(verified(one));
        NodeRecord lower = new NodeRecord(one.mesh(), one.node(), 2, 9, one.state(), one.identityKey(), one.wgPublicKey(),
                one.endpoints(), one.addresses(), one.allowedIps(), one.keyIssuedAt(), one.issuedAt(), null);
        assertEquals(RejectReason.EPOCH_ROLLBACK, assertThrows(RejectedValueException.class, () -> guard.admit(verified(lower))).reason());
    }

    @Test
    void theRuleSurvivesARestartFromWhatWasPersisted() throws Exception {
        EpochGuard guard = new EpochGuard();
        NodeRecord one = Samples.nodeRecord("node-a", 1, 1);
        Verified<NodeRecord> old = verified(one);
        guard.admit(old);
        guard.admit(verified(at(one, 5, NodeState.ACTIVE)));
        EpochGuard restarted = new EpochGuard(guard.highest());
        assertEquals(RejectReason.EPOCH_ROLLBACK, assertThrows(RejectedValueException.class, () -> restarted.admit(old)).reason());
    }
}
