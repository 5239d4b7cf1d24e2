package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A WireGuard device as read back. It never holds the private key, only the public key derived
 * from it, so a device state can be logged or served without leaking anything.
 *
 * @param publicKey    null when the device has no private key yet
 * @param firewallMark the mark on the device's own UDP packets, 0 for none
 */
public record DeviceState(WireGuardPublicKey publicKey, int listenPort, long firewallMark, Map<WireGuardPublicKey, PeerStatus> peers) {
    public DeviceState {
        peers = Map.copyOf(peers);
    }

    public Map<WireGuardPublicKey, PeerConfig> configs() {
        Map<WireGuardPublicKey, PeerConfig> configs = new LinkedHashMap<>();
        peers.forEach((key, status) -> configs.put(key, status.config()));
        return configs;
    }
}
