package io.keymesh.daemon.mesh;

import io.keymesh.daemon.collect.PersistentMap;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import java.util.Map;

/**
 * The verified mesh at one moment, immutable: what the reconciler builds the device from. Each
 * snapshot shares the records it did not change with the one before ({@link PersistentMap}), so
 * making one per change costs nothing like a copy, and {@link #changedSince} finds what changed
 * without looking at the rest.
 *
 * @param records  verified node records by node name
 * @param config   the verified mesh configuration, or null while none is known
 * @param revision every node record change up to this etcd revision is included
 */
public record MeshSnapshot(PersistentMap<String, NodeRecord> records, MeshConfig config, long revision) {
    public MeshSnapshot {
        java.util.Objects.requireNonNull(records, "records");
    }

    public MeshSnapshot(Map<String, NodeRecord> records, MeshConfig config, long revision) {
        this(PersistentMap.copyOf(records), config, revision);
    }

    /** Every node whose record is not the same object here as in {@code earlier} (added, replaced or gone). */
    public void changedSince(MeshSnapshot earlier, PersistentMap.Difference<String, NodeRecord> difference) {
        PersistentMap.diff(earlier.records, records, difference);
    }
}
