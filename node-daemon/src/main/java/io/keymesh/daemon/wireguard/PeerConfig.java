package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import java.util.Comparator;
import java.util.List;

/**
 * One WireGuard peer as keymesh wants it (or as the device has it).
 *
 * @param endpoint          where to send to it; null when it advertises none (behind NAT), in which
 *                          case the device keeps whatever endpoint roaming has learned
 * @param keepaliveSeconds  persistent keepalive toward it, 0 for none
 * @param allowedIps        kept sorted, so equal sets are equal lists
 */
public record PeerConfig(WireGuardPublicKey publicKey, Endpoint endpoint, int keepaliveSeconds, List<IpPrefix> allowedIps) {
    public PeerConfig {
        if (publicKey == null) {
            throw new IllegalArgumentException("peer public key is missing");
        }
        if (keepaliveSeconds < 0 || keepaliveSeconds > 65535) {
            throw new IllegalArgumentException("keepalive must be 0 to 65535 s, got " + keepaliveSeconds);
        }
        allowedIps = allowedIps.stream().distinct().sorted(Comparator.comparing(IpPrefix::toString)).toList();
    }
}
