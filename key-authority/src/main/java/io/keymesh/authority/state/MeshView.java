package io.keymesh.authority.state;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import java.util.List;
import java.util.Optional;

/** What the authority's decisions read: the mesh as of one etcd revision. */
public interface MeshView {
    long revision();

    /** The record at {@code nodes/<node>}, valid or not; empty when the key is absent. */
    Optional<Stored<NodeRecord>> node(String node);

    Optional<Stored<JoinToken>> token(String id);

    Optional<Stored<EnrollmentResult>> enrollResult(String node);

    /** The node whose valid record holds this WireGuard key, if any. */
    Optional<String> nodeWithWireGuardKey(WireGuardPublicKey key);

    /** The node whose valid record holds this identity key, if any. */
    Optional<String> nodeWithIdentity(Ed25519PublicKey key);

    boolean isTombstoned(Ed25519PublicKey identity);

    /** Pending operator requests of one action for one node, in id order. */
    List<Stored<OperatorRequest>> pendingRequests(String node, RequestAction action);

    /** Whether {@code ipam/<address>} exists, whoever wrote it. */
    boolean isAddressClaimed(String address);
}
