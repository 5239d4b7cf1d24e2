package io.keymesh.authority.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.authority.state.Stored;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import io.keymesh.testing.Samples;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Automatic rotation by key age: which node, and when none. */
class RotationMarkTest {
    private static final Instant NOW = Samples.NOW;
    private static final Duration MAX_AGE = Duration.ofDays(30);
    private static final Duration STUCK = Duration.ofMinutes(10);

    private static Stored<NodeRecord> node(String name, Duration keyAge, NodeState state, Instant markedAt) {
        NodeRecord r = Samples.nodeRecord(name, 3, 1);
        return new Stored<>(new NodeRecord(r.mesh(), name, 3, 5, state, r.identityKey(), r.wgPublicKey(), r.endpoints(), r.addresses(),
                r.allowedIps(), NOW.minus(keyAge), NOW, markedAt), 42, null);
    }

    @Test
    void theOldestOverdueActiveKeyIsMarkedAtTheNextSerialSameEpochAndKey() {
        var due = RotationMark.overdue(List.of(node("young", Duration.ofDays(2), NodeState.ACTIVE, null),
                node("old", Duration.ofDays(40), NodeState.ACTIVE, null), node("older", Duration.ofDays(31), NodeState.ACTIVE, null),
                node("revoked", Duration.ofDays(90), NodeState.REVOKED, null)), MAX_AGE, STUCK, NOW).orElseThrow();
        assertEquals("old", due.marked().node());
        assertEquals(6, due.marked().serial());
        assertEquals(3, due.marked().epoch());
        assertEquals(NOW, due.marked().rotationRequestedAt());
        assertEquals(42, due.nodeRevision());
    }

    @Test
    void nothingIsDueWhileAnotherRotationIsUnderWayUnlessThatOneIsStuck() {
        Stored<NodeRecord> old = node("old", Duration.ofDays(40), NodeState.ACTIVE, null);
        assertTrue(RotationMark.overdue(List.of(old, node("busy", Duration.ofDays(1), NodeState.ACTIVE, NOW.minusSeconds(30))),
                MAX_AGE, STUCK, NOW).isEmpty());
        assertEquals("old", RotationMark.overdue(List.of(old, node("down", Duration.ofDays(1), NodeState.ACTIVE, NOW.minus(STUCK))),
                MAX_AGE, STUCK, NOW).orElseThrow().marked().node());
        assertTrue(RotationMark.overdue(List.of(node("young", Duration.ofDays(29), NodeState.ACTIVE, null)), MAX_AGE, STUCK, NOW).isEmpty());
    }
}
