package io.keymesh.daemon.mesh;

import io.keymesh.daemon.collect.PersistentMap;
import io.keymesh.runtime.etcd.Change;
import io.keymesh.schema.crypto.Digests;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.EpochGuard;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.schema.verify.RejectReason;
import io.keymesh.schema.verify.RejectedValueException;
import io.keymesh.schema.verify.Verified;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The daemon's verified view of the mesh, fed with what etcd says. A node record is accepted only
 * if it is signed by a pinned authority key, sits at the key its node name implies, belongs to
 * this mesh and does not go back in epoch ({@link EpochGuard}); anything else is refused and
 * changes nothing: the last verified record stays. The authority never deletes a node record (a
 * revocation is a newer, signed record), so a deletion or a key missing from a snapshot is
 * refused the same way: whoever can write etcd cannot cut a node out of the mesh by deleting.
 * Pure and single-threaded; the caller serialises.
 */
public final class VerifiedMesh {
    /** A verified record and the exact bytes it was stored as (persisted, re-verified at boot). */
    public record Entry(NodeRecord record, byte[] value) {
    }

    private final KeyLayout layout;
    private final TrustedKeys trusted;
    private final String mesh;
    private final NodeRecordCheck check;
    private final EpochGuard guard;
    private final Map<String, Entry> byKey = new HashMap<>();
    /** The records of {@link #byKey} by node name, shared with every snapshot handed out. */
    private PersistentMap<String, NodeRecord> records = PersistentMap.empty();
    /** The value last refused at each key (or "deleted"): a re-read refuses it again, silently. */
    private final Map<String, String> refusedAt = new HashMap<>();
    private MeshConfig config;
    private byte[] configValue;
    private long revision;

    public VerifiedMesh(KeyLayout layout, TrustedKeys trusted, String mesh, Map<String, EpochGuard.Seen> highestSeen) {
        this.layout = layout;
        this.trusted = trusted;
        this.mesh = mesh;
        this.check = new NodeRecordCheck(layout, trusted, mesh);
        this.guard = new EpochGuard(highestSeen);
    }

    /**
     * A full read of the node prefix at {@code atRevision}. Records that changed are verified;
     * a node missing from it keeps its last verified record (see the class comment).
     */
    public List<Refusal> snapshot(List<Change> all, long atRevision) {
        List<Refusal> refused = new ArrayList<>();
        Set<String> present = new HashSet<>();
        for (Change change : all) {
            present.add(change.key());
            accept(change).ifPresent(refused::add);
        }
        for (String key : byKey.keySet()) {
            if (!present.contains(key)) {
                once(new Refusal(key, RejectReason.UNSIGNED_DELETE, "missing from the snapshot at revision " + atRevision
                        + "; keeping its last verified record"), DELETED).ifPresent(refused::add);
            }
        }
        revision = Math.max(revision, atRevision);
        return refused;
    }

    /** The changes of one watch response, all at or below {@code upTo}. */
    public List<Refusal> changes(List<Change> changes, long upTo) {
        List<Refusal> refused = new ArrayList<>();
        for (Change change : changes) {
            accept(change).ifPresent(refused::add);
        }
        revision = Math.max(revision, upTo);
        return refused;
    }

    private java.util.Optional<Refusal> accept(Change change) {
        if (change.isDelete()) {
            return byKey.containsKey(change.key())
                    ? once(new Refusal(change.key(), RejectReason.UNSIGNED_DELETE,
                            "deleted at revision " + change.modRevision() + "; keeping its last verified record"), DELETED)
                    : java.util.Optional.empty();
        }
        Entry current = byKey.get(change.key());
        if (current != null && Arrays.equals(current.value(), change.value())) {
            refusedAt.remove(change.key());
            return java.util.Optional.empty(); // unchanged (a re-read snapshot): verified already
        }
        try {
            Verified<NodeRecord> verified = check.verify(change.key(), change.value());
            guard.admit(verified);
            byKey.put(change.key(), new Entry(verified.value(), change.value()));
            records = records.with(verified.value().node(), verified.value());
            refusedAt.remove(change.key());
            return java.util.Optional.empty();
        } catch (RejectedValueException e) {
            return once(new Refusal(change.key(), e.reason(), e.getMessage()), Digests.sha256Hex(change.value()));
        }
    }

    private static final String DELETED = "deleted";

    /** A refusal is reported the first time a value is seen at its key, not again on every re-read. */
    private java.util.Optional<Refusal> once(Refusal refusal, String what) {
        return what.equals(refusedAt.put(refusal.key(), what)) ? java.util.Optional.empty() : java.util.Optional.of(refusal);
    }

    /** The mesh configuration at {@code config}; a deletion keeps the last verified one. */
    public java.util.Optional<Refusal> config(byte[] value) {
        String key = layout.config();
        if (value == null) {
            return config == null ? java.util.Optional.empty()
                    : once(new Refusal(key, RejectReason.UNSIGNED_DELETE, "mesh config deleted; keeping the last verified one"), DELETED);
        }
        if (configValue != null && Arrays.equals(configValue, value)) {
            refusedAt.remove(key);
            return java.util.Optional.empty();
        }
        try {
            MeshConfig candidate = AuthoritySignature.verify(value, MeshConfig.class, trusted).value();
            if (!mesh.equals(candidate.mesh())) {
                return once(new Refusal(key, RejectReason.WRONG_MESH, "mesh config for mesh " + candidate.mesh() + ", not " + mesh),
                        Digests.sha256Hex(value));
            }
            if (config != null && candidate.issuedAt().isBefore(config.issuedAt())) {
                return once(new Refusal(key, RejectReason.EPOCH_ROLLBACK, "mesh config issued at " + candidate.issuedAt()
                        + " is older than the one in use (" + config.issuedAt() + ")"), Digests.sha256Hex(value));
            }
            config = candidate;
            configValue = value.clone();
            refusedAt.remove(key);
            return java.util.Optional.empty();
        } catch (RejectedValueException e) {
            return once(new Refusal(key, e.reason(), e.getMessage()), Digests.sha256Hex(value));
        }
    }

    /** The mesh now; no copy, whatever its size. */
    public MeshSnapshot view() {
        return new MeshSnapshot(records, config, revision);
    }

    /** Stored bytes by key, for the state file. */
    public Map<String, byte[]> storedRecords() {
        Map<String, byte[]> stored = new HashMap<>();
        byKey.forEach((key, entry) -> stored.put(key, entry.value()));
        return stored;
    }

    public byte[] storedConfig() {
        return configValue == null ? null : configValue.clone();
    }

    public Map<String, EpochGuard.Seen> highestSeen() {
        return guard.highest();
    }

    public long revision() {
        return revision;
    }
}
