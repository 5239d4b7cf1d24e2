package io.keymesh.authority.admission;

import io.keymesh.authority.state.MeshView;
import io.keymesh.authority.state.Stored;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeRecord;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The mesh as it will be once a batch of admissions commits: the leader's view with the batch's
 * decisions laid on top, so the next join in the same batch sees the addresses, keys and token
 * uses the earlier ones took. The guarded revisions stay those of the underlying view, which is
 * what the batch's single transaction compares.
 */
public final class BatchView implements MeshView {
    private final MeshView base;
    private final Map<String, NodeRecord> admitted = new HashMap<>();
    private final Map<String, Stored<JoinToken>> tokens = new HashMap<>();
    private final Map<WireGuardPublicKey, String> wgKeys = new HashMap<>();
    private final Map<Ed25519PublicKey, String> identities = new HashMap<>();
    private final Set<String> claimed = new HashSet<>();

    public BatchView(MeshView base) {
        this.base = base;
    }

    /** Lays an admission or rotation on top; rejections and repeats change nothing. */
    public void add(JoinDecision decision) {
        if (decision instanceof JoinDecision.Admit admit) {
            NodeRecord record = admit.record();
            admitted.put(record.node(), record);
            wgKeys.put(record.wgPublicKey(), record.node());
            identities.put(record.identityKey(), record.node());
            admit.claims().stream().map(AddressClaim::address).forEach(claimed::add);
            tokens.put(admit.tokenAfter().id(), new Stored<>(admit.tokenAfter(), admit.tokenRevision(), null));
        } else if (decision instanceof JoinDecision.Rotate rotate) {
            // The new key is taken from now on: a later join in the batch may not claim it.
            admitted.put(rotate.record().node(), rotate.record());
            wgKeys.put(rotate.record().wgPublicKey(), rotate.record().node());
        }
    }

    @Override
    public long revision() {
        return base.revision();
    }

    @Override
    public Optional<Stored<NodeRecord>> node(String node) {
        NodeRecord record = admitted.get(node);
        if (record != null) {
            long revision = base.node(node).map(Stored::modRevision).orElse(0L);
            return Optional.of(new Stored<>(record, revision, null));
        }
        return base.node(node);
    }

    @Override
    public Optional<Stored<JoinToken>> token(String id) {
        Stored<JoinToken> token = tokens.get(id);
        return token != null ? Optional.of(token) : base.token(id);
    }

    @Override
    public Optional<Stored<EnrollmentResult>> enrollResult(String node) {
        return base.enrollResult(node);
    }

    @Override
    public Optional<String> nodeWithWireGuardKey(WireGuardPublicKey key) {
        String node = wgKeys.get(key);
        return node != null ? Optional.of(node) : base.nodeWithWireGuardKey(key);
    }

    @Override
    public Optional<String> nodeWithIdentity(Ed25519PublicKey key) {
        String node = identities.get(key);
        return node != null ? Optional.of(node) : base.nodeWithIdentity(key);
    }

    @Override
    public java.util.List<Stored<io.keymesh.schema.record.OperatorRequest>> pendingRequests(String node,
                                                                              io.keymesh.schema.record.RequestAction action) {
        return base.pendingRequests(node, action);
    }

    @Override
    public boolean isTombstoned(Ed25519PublicKey identity) {
        return base.isTombstoned(identity);
    }

    @Override
    public boolean isAddressClaimed(String address) {
        return claimed.contains(address) || base.isAddressClaimed(address);
    }
}
