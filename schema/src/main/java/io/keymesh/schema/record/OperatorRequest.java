package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.time.Instant;
import java.util.List;

/**
 * An operator's request at {@code requests/<id>}, written by the CLI as pending; the leader
 * writes the outcome back into the same key, in the transaction that carries the request out,
 * so the key's mod revision after that is the revision of the request's commit.
 *
 * @param node        the node acted on; null for a rollout
 * @param identityKey the new identity a reprovision authorizes; null for other actions
 * @param nodes       a rollout's nodes, in order; null for other actions
 * @param parallel    how many nodes a rollout rotates at once; null for other actions
 */
public record OperatorRequest(
        String id,
        RequestAction action,
        String node,
        Ed25519PublicKey identityKey,
        Instant createdAt,
        RequestStatus status,
        String reason,
        Instant updatedAt,
        List<String> nodes,
        Integer parallel) {

    public OperatorRequest {
        Ids.require(id, "request id");
        Fields.present(action, "action");
        if (action == RequestAction.ROLLOUT) {
            if (node != null) {
                throw new IllegalArgumentException("a rollout names its nodes in nodes, not node");
            }
            nodes = Fields.list(nodes, "nodes");
            if (nodes.isEmpty() || nodes.size() > MAX_ROLLOUT_NODES) {
                throw new IllegalArgumentException("a rollout needs 1 to " + MAX_ROLLOUT_NODES + " nodes");
            }
            nodes.forEach(NodeName::require);
            if (nodes.stream().distinct().count() != nodes.size()) {
                throw new IllegalArgumentException("a rollout names each node once");
            }
            Fields.atLeast(Fields.present(parallel, "parallel"), 1, "parallel");
        } else {
            NodeName.require(node);
            if (nodes != null || parallel != null) {
                throw new IllegalArgumentException("only a rollout has nodes and parallel");
            }
        }
        if (action == RequestAction.REPROVISION) {
            Fields.present(identityKey, "identityKey");
        }
        Fields.present(createdAt, "createdAt");
        Fields.present(status, "status");
        Fields.text(reason, 512, "reason");
    }

    /** The most nodes one rollout record lists (etcd values stay well under their size limit). */
    public static final int MAX_ROLLOUT_NODES = 5000;

    public static OperatorRequest pending(String id, RequestAction action, String node,
                                          Ed25519PublicKey identityKey, Instant now) {
        return new OperatorRequest(id, action, node, identityKey, now, RequestStatus.PENDING, null, null, null, null);
    }

    public static OperatorRequest rollout(String id, List<String> nodes, int parallel, Instant now) {
        return new OperatorRequest(id, RequestAction.ROLLOUT, null, null, now, RequestStatus.PENDING, null, null, nodes, parallel);
    }

    public OperatorRequest completed(RequestStatus outcome, String why, Instant now) {
        return new OperatorRequest(id, action, node, identityKey, createdAt, outcome, why, now, nodes, parallel);
    }

    /** The same request, still pending, with a note on where it stands (a stopped rollout says why). */
    public OperatorRequest noted(String why, Instant now) {
        return new OperatorRequest(id, action, node, identityKey, createdAt, status, why, now, nodes, parallel);
    }
}
