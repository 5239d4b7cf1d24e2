package io.keymesh.schema.record;

import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.time.Instant;
import java.util.List;

/**
 * A node's request at {@code enroll/<node>}, signed with its identity key (field {@code signature});
 * a join also carries {@code tokenProof}, a signature by the key derived from the join token's
 * secret, so the secret itself never reaches etcd.
 *
 * @param tokenId   the join token used, on a join; null on a rotation
 * @param baseEpoch the epoch the node holds when it asks to rotate; 0 on a join
 */
public record EnrollmentRequest(
        String mesh,
        String node,
        EnrollmentKind kind,
        Ed25519PublicKey identityKey,
        WireGuardPublicKey wgPublicKey,
        List<Endpoint> endpoints,
        String tokenId,
        long baseEpoch,
        Instant requestedAt) {

    public EnrollmentRequest {
        MeshName.require(mesh);
        NodeName.require(node);
        Fields.present(kind, "kind");
        Fields.present(identityKey, "identityKey");
        Fields.present(wgPublicKey, "wgPublicKey");
        endpoints = Fields.list(endpoints, "endpoints");
        if (kind == EnrollmentKind.JOIN) {
            Ids.require(Fields.present(tokenId, "tokenId"), "tokenId");
        }
        Fields.atLeast(baseEpoch, 0, "baseEpoch");
        Fields.present(requestedAt, "requestedAt");
    }
}
