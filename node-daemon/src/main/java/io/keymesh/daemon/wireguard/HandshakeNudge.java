package io.keymesh.daemon.wireguard;

import io.keymesh.schema.record.IpPrefix;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Collection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes WireGuard handshake with peers now rather than when traffic next happens to flow: one
 * one-byte UDP datagram to each peer's overlay address (the discard port, 9), routed into the
 * tunnel, which starts a handshake for a peer without a session. After a key rotation both ends
 * need a new session, and whichever end switches keys first has its handshake refused (the other
 * does not know the key yet) and then waits WireGuard's 5 s retry; the end that switches second
 * nudges, its handshake succeeds, and the pause is only the time between the two switches.
 * Best effort: a datagram that cannot be sent costs nothing but the nudge.
 */
final class HandshakeNudge {
    private static final Logger LOG = LoggerFactory.getLogger(HandshakeNudge.class);
    private static final int DISCARD_PORT = 9;

    private HandshakeNudge() {
    }

    static void send(Collection<PeerConfig> peers) {
        try (DatagramChannel channel = DatagramChannel.open()) {
            for (PeerConfig peer : peers) {
                for (IpPrefix prefix : peer.allowedIps()) {
                    if (prefix.length() == prefix.bits()) { // a host address: the peer itself, not a network behind it
                        try {
                            channel.send(ByteBuffer.wrap(new byte[1]), new InetSocketAddress(prefix.address(), DISCARD_PORT));
                        } catch (IOException e) {
                            LOG.debug("cannot nudge {} at {}: {}", peer.publicKey(), prefix, e.getMessage());
                        }
                        break;
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot open a socket to nudge handshakes: {}", e.getMessage());
        }
    }
}
