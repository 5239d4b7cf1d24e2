package io.keymesh.authority.admission;

import io.keymesh.authority.state.MeshView;
import io.keymesh.authority.state.Stored;
import io.keymesh.schema.record.NodeRecord;

/**
 * A node's verified, active record, which revoke and rotate requests act on, or why a request
 * for that node must be refused. Pure.
 */
record ActiveRecord(Stored<NodeRecord> stored, Rejection reason, String detail) {

    static ActiveRecord of(String node, MeshView view) {
        var stored = view.node(node);
        if (stored.isEmpty()) {
            return new ActiveRecord(null, Rejection.UNKNOWN_NODE, "no admitted node " + node);
        }
        if (!stored.get().isValid()) {
            return new ActiveRecord(null, Rejection.UNVERIFIABLE_RECORD, "nodes/" + node + " holds a record that does not verify ("
                    + stored.get().invalidReason() + ")");
        }
        if (!stored.get().value().isActive()) {
            return new ActiveRecord(null, Rejection.ALREADY_REVOKED, "node " + node + " was revoked at epoch "
                    + stored.get().value().epoch());
        }
        return new ActiveRecord(stored.get(), null, null);
    }

    boolean found() {
        return stored != null;
    }
}
