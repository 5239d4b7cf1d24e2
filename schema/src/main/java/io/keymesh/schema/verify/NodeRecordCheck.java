package io.keymesh.schema.verify;

import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;

/**
 * Everything a reader checks about one node record by itself: a trusted signature, a valid
 * record, for this mesh, stored at the key its node name implies (so a validly signed record
 * copied to another node's key is refused). The epoch rule needs history and lives in
 * {@code EpochGuard}.
 */
public final class NodeRecordCheck {
    private final KeyLayout layout;
    private final TrustedKeys trusted;
    private final String mesh;

    public NodeRecordCheck(KeyLayout layout, TrustedKeys trusted, String mesh) {
        this.layout = layout;
        this.trusted = trusted;
        this.mesh = mesh;
    }

    public Verified<NodeRecord> verify(String key, byte[] value) throws RejectedValueException {
        Verified<NodeRecord> verified = AuthoritySignature.verify(value, NodeRecord.class, trusted);
        NodeRecord record = verified.value();
        String expectedKey = layout.node(record.node());
        if (!expectedKey.equals(key)) {
            throw new RejectedValueException(RejectReason.WRONG_KEY_PATH,
                    "record for node " + record.node() + " is stored at " + key + ", not " + expectedKey);
        }
        if (!mesh.equals(record.mesh())) {
            throw new RejectedValueException(RejectReason.WRONG_MESH,
                    "record for node " + record.node() + " belongs to mesh " + record.mesh() + ", not " + mesh);
        }
        return verified;
    }
}
