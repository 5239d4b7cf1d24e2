package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import java.io.IOException;

/**
 * The whole WireGuard surface keymesh uses, in the manner of wgctrl-go: read the device, apply
 * a per-peer delta, set the device's own key and port. Implementations never delete the
 * interface and never replace all peers.
 */
public interface WireGuardDevice {
    DeviceState read() throws IOException;

    void apply(PeerDelta delta) throws IOException;

    void configure(WireGuardPrivateKey privateKey, int listenPort) throws IOException;

    /** Marks the device's own UDP packets with {@code mark} (0: none), so that policy routing can tell them apart. */
    void setFirewallMark(long mark) throws IOException;

    /** Starts a handshake with each of {@code peers} now (after a key rotation), best effort. */
    default void nudge(java.util.Collection<PeerConfig> peers) {
        HandshakeNudge.send(peers);
    }
}
