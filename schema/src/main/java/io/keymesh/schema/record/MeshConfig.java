package io.keymesh.schema.record;

import java.time.Instant;
import java.util.List;

/**
 * Mesh-wide settings at {@code config}, signed by the authority.
 *
 * @param overlayCidrs  where overlay addresses are allocated (IPv4 and/or IPv6)
 * @param mtu           the WireGuard MTU, or null for the underlay MTU minus 80
 * @param keepaliveSeconds persistent keepalive toward peers behind NAT (0 disables)
 */
public record MeshConfig(
        String mesh,
        List<IpPrefix> overlayCidrs,
        int listenPort,
        int keepaliveSeconds,
        Integer mtu,
        Instant issuedAt) {

    public MeshConfig {
        MeshName.require(mesh);
        overlayCidrs = Fields.list(overlayCidrs, "overlayCidrs");
        if (overlayCidrs.isEmpty()) {
            throw new IllegalArgumentException("overlayCidrs needs at least one prefix");
        }
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("listenPort must be 1 to 65535, got " + listenPort);
        }
        if (keepaliveSeconds < 0 || keepaliveSeconds > 65535) {
            throw new IllegalArgumentException("keepaliveSeconds must be 0 to 65535, got " + keepaliveSeconds);
        }
        if (mtu != null && (mtu < 1280 || mtu > 65535)) {
            throw new IllegalArgumentException("mtu must be 1280 to 65535, got " + mtu);
        }
        Fields.present(issuedAt, "issuedAt");
    }
}
