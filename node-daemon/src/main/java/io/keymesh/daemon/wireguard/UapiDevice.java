package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A userspace WireGuard device (wireguard-go, boringtun) through its control socket, spoken
 * directly from Java: one connection per operation, as {@code wg} does. Blocking; the daemon
 * calls it from its one serial device worker, never from an event loop.
 */
public final class UapiDevice implements WireGuardDevice {
    /** Where userspace implementations put their sockets; shared by all network namespaces. */
    public static final Path SOCKET_DIRECTORY = Path.of("/var/run/wireguard");
    private static final int MAX_REPLY = 64 * 1024 * 1024;
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String interfaceName;
    private final Path socket;

    public UapiDevice(String interfaceName) {
        this.interfaceName = interfaceName;
        this.socket = SOCKET_DIRECTORY.resolve(interfaceName + ".sock");
    }

    @Override
    public DeviceState read() throws IOException {
        return UapiProtocol.parseGet(exchange(UapiProtocol.GET));
    }

    @Override
    public void apply(PeerDelta delta) throws IOException {
        if (!delta.isEmpty()) {
            check(exchange(UapiProtocol.setPeers(delta)), "apply " + delta.size() + " peer change(s)");
        }
    }

    @Override
    public void configure(WireGuardPrivateKey privateKey, int listenPort) throws IOException {
        check(exchange(UapiProtocol.setDevice(privateKey, listenPort)), "set the private key and listen port");
    }

    @Override
    public void setFirewallMark(long mark) throws IOException {
        check(exchange(UapiProtocol.setFirewallMark(mark)), "set the firewall mark");
    }

    private void check(String reply, String what) throws IOException {
        int errno = UapiProtocol.errno(reply);
        if (errno != 0) {
            throw new IOException("WireGuard interface " + interfaceName + " refused to " + what + " (errno " + errno + ")");
        }
    }

    /** A reply ends with its errno line and a blank line. */
    private static boolean complete(StringBuilder reply) {
        int n = reply.length();
        return n >= 2 && reply.charAt(n - 1) == '\n' && reply.charAt(n - 2) == '\n' && reply.lastIndexOf("errno=") >= 0;
    }

    /**
     * Sends one request and reads the reply up to its terminating blank line, within
     * {@link #TIMEOUT}: a wedged implementation must not hold the one device thread forever.
     */
    private String exchange(String request) throws IOException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX); Selector selector = Selector.open()) {
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                throw new IOException("cannot reach WireGuard interface " + interfaceName + " at " + socket + ": " + e.getMessage(), e);
            }
            channel.configureBlocking(false);
            SelectionKey key = channel.register(selector, SelectionKey.OP_WRITE);
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                await(selector, deadline);
                channel.write(out);
            }
            key.interestOps(SelectionKey.OP_READ);
            StringBuilder reply = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(64 * 1024);
            while (!complete(reply)) {
                await(selector, deadline);
                in.clear();
                if (channel.read(in) < 0) {
                    break;
                }
                in.flip();
                reply.append(StandardCharsets.US_ASCII.decode(in));
                if (reply.length() > MAX_REPLY) {
                    throw new IOException("reply from " + socket + " is larger than " + MAX_REPLY + " bytes");
                }
            }
            return reply.toString();
        }
    }

    private void await(Selector selector, long deadline) throws IOException {
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0 || selector.select(left) == 0 && System.nanoTime() >= deadline) {
            throw new IOException("WireGuard interface " + interfaceName + " did not answer on " + socket + " within "
                    + TIMEOUT.toSeconds() + " s");
        }
        selector.selectedKeys().clear();
    }
}
