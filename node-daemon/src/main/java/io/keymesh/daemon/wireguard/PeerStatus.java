package io.keymesh.daemon.wireguard;

import java.time.Instant;

/**
 * A peer as the device reports it: its configuration and its traffic.
 *
 * @param lastHandshake null when there has been none
 */
public record PeerStatus(PeerConfig config, Instant lastHandshake, long rxBytes, long txBytes) {
}
