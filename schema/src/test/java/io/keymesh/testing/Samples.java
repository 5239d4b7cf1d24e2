package io.keymesh.testing;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeState;
import java.time.Instant;
import java.util.List;

/** Valid sample values for tests, with addresses only from documentation and benchmark ranges. */
public final class Samples {
    public static final String MESH = "test-mesh";
    public static final Instant NOW = Instant.parse("2026-11-21T04:30:00Z");

    private Samples() {
    }

    /** An active record at {@code epoch} for node {@code node} with fresh keys; overlay from 198.18.0.0/15. */
    public static NodeRecord nodeRecord(String node, long epoch, int hostIndex) {
        IpPrefix overlay = IpPrefix.parse("198.18.0." + hostIndex + "/32");
        return new NodeRecord(MESH, node, epoch, epoch, NodeState.ACTIVE,
                Ed25519PrivateKey.generate().publicKey(),
                WireGuardPrivateKey.generate().publicKey(),
                List.of(Endpoint.parse("192.0.2." + hostIndex + ":51820")),
                List.of(overlay),
                List.of(overlay),
                NOW, NOW, null);
    }
}
