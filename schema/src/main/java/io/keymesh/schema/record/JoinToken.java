package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.time.Instant;

/**
 * A join token at {@code tokens/<id>}. The secret the operator hands to a host never reaches
 * etcd: it seeds an Ed25519 key, and only that key's public half ({@code proofKey}) is stored.
 * A node proves the token by signing its enrollment with the derived key. Reading etcd therefore
 * never lets anyone forge a join, which a stored hash of the secret would not guarantee.
 *
 * @param node the only node name this token may admit, or null for any
 */
public record JoinToken(
        String id,
        Ed25519PublicKey proofKey,
        String node,
        int usesLeft,
        Instant expiresAt,
        Instant createdAt) {

    public JoinToken {
        Ids.require(id, "token id");
        Fields.present(proofKey, "proofKey");
        if (node != null) {
            NodeName.require(node);
        }
        Fields.atLeast(usesLeft, 0, "usesLeft");
        Fields.present(expiresAt, "expiresAt");
        Fields.present(createdAt, "createdAt");
    }

    public boolean isUsableAt(Instant now) {
        return usesLeft > 0 && now.isBefore(expiresAt);
    }
}
