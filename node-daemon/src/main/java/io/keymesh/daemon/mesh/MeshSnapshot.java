package io.keymesh.daemon.mesh;

import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import java.util.Map;

/**
 * The verified mesh at one moment, immutable: what the reconciler builds the device from.
 *
 * @param records  verified node records by node name
 * @param config   the verified mesh configuration, or null while none is known
 * @param revision every node record change up to this etcd revision is included
 */
public record MeshSnapshot(Map<String, NodeRecord> records, MeshConfig config, long revision) {
    public MeshSnapshot {
        records = Map.copyOf(records);
    }
}
