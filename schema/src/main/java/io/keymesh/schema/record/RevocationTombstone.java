package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import java.time.Instant;

/**
 * At {@code revoked/<identity fingerprint>}, signed by the authority: this identity can never
 * enroll again. Written on revoke and when a reprovision replaces a node's identity.
 */
public record RevocationTombstone(String node, Ed25519PublicKey identityKey, long epoch, String reason, Instant revokedAt) {
    public RevocationTombstone {
        NodeName.require(node);
        Fields.present(identityKey, "identityKey");
        Fields.atLeast(epoch, 1, "epoch");
        Fields.text(Fields.present(reason, "reason"), 64, "reason");
        Fields.present(revokedAt, "revokedAt");
    }
}
