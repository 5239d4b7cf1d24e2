package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.time.Instant;

/**
 * An operator's request at {@code requests/<id>}, written by the CLI as pending; the leader
 * writes the outcome back into the same key, in the transaction that carries the request out,
 * so the key's mod revision after that is the revision of the request's commit.
 *
 * @param identityKey the new identity a reprovision authorizes; null for other actions
 */
public record OperatorRequest(
        String id,
        RequestAction action,
        String node,
        Ed25519PublicKey identityKey,
        Instant createdAt,
        RequestStatus status,
        String reason,
        Instant updatedAt) {

    public OperatorRequest {
        Ids.require(id, "request id");
        Fields.present(action, "action");
        NodeName.require(node);
        if (action == RequestAction.REPROVISION) {
            Fields.present(identityKey, "identityKey");
        }
        Fields.present(createdAt, "createdAt");
        Fields.present(status, "status");
        Fields.text(reason, 512, "reason");
    }

    public static OperatorRequest pending(String id, RequestAction action, String node,
                                          Ed25519PublicKey identityKey, Instant now) {
        return new OperatorRequest(id, action, node, identityKey, now, RequestStatus.PENDING, null, null);
    }

    public OperatorRequest completed(RequestStatus outcome, String why, Instant now) {
        return new OperatorRequest(id, action, node, identityKey, createdAt, outcome, why, now);
    }
}
