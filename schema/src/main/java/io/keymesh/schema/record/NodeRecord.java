package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.time.Instant;
import java.util.List;

/**
 * The authority's statement of who a node is: at {@code nodes/<node>}, signed by the authority
 * (fields {@code keyId} and {@code signature} beside these, see {@code AuthoritySignature}).
 *
 * @param epoch       +1 for each new WireGuard key or identity admitted for this name, and for a revocation
 * @param serial      counts every signed version of this name's record, whatever changed; readers
 *                    order versions by it (anti-rollback), so the authority can change a record
 *                    without a new key (a rotation mark) and never reuse an epoch; a record
 *                    written before serials existed reads as serial = epoch
 * @param endpoints   where peers reach the node; empty when it sits behind NAT
 * @param addresses   overlay addresses the authority assigned to the node
 * @param allowedIps  what peers route to the node (its addresses, plus more in later modes)
 * @param keyIssuedAt when the current WireGuard key was admitted, for key age
 * @param rotationRequestedAt set while the authority waits for the node to rotate its WireGuard
 *                    key (phase one of a rotation); null otherwise
 */
public record NodeRecord(
        String mesh,
        String node,
        long epoch,
        @JsonSetter(nulls = Nulls.AS_EMPTY) long serial,
        NodeState state,
        Ed25519PublicKey identityKey,
        WireGuardPublicKey wgPublicKey,
        List<Endpoint> endpoints,
        List<IpPrefix> addresses,
        List<IpPrefix> allowedIps,
        Instant keyIssuedAt,
        Instant issuedAt,
        Instant rotationRequestedAt) {

    public NodeRecord {
        MeshName.require(mesh);
        NodeName.require(node);
        Fields.atLeast(epoch, 1, "epoch");
        if (serial == 0) {
            serial = epoch; // written before serials existed: one version per epoch so far
        }
        Fields.atLeast(serial, epoch, "serial");
        Fields.present(state, "state");
        Fields.present(identityKey, "identityKey");
        Fields.present(wgPublicKey, "wgPublicKey");
        endpoints = Fields.list(endpoints, "endpoints");
        addresses = Fields.list(addresses, "addresses");
        allowedIps = Fields.list(allowedIps, "allowedIps");
        Fields.present(keyIssuedAt, "keyIssuedAt");
        Fields.present(issuedAt, "issuedAt");
    }

    @JsonIgnore
    public boolean isActive() {
        return state == NodeState.ACTIVE;
    }

    /** Whether the authority asked this node to rotate its WireGuard key and waits for it. */
    @JsonIgnore
    public boolean isRotationRequested() {
        return rotationRequestedAt != null;
    }
}
