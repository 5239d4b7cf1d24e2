package io.keymesh.it.testbed;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * {@code TcpRelay LISTEN_ADDRESS PORT TARGET_ADDRESS TARGET_PORT}: forwards every connection, so
 * that a service (etcd) is reached at a node host's own underlay address, as when it runs there.
 * Run as its own process in that host's namespace; it ends with the namespace.
 */
public final class TcpRelay {
    private TcpRelay() {
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress target = new InetSocketAddress(InetAddress.getByName(args[2]), Integer.parseInt(args[3]));
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])));
            System.out.println("listening on " + server.getLocalSocketAddress() + ", relaying to " + target);
            while (true) {
                Socket client = server.accept();
                Daemons.start(() -> {
                    try (client; Socket upstream = new Socket()) {
                        upstream.connect(target, 10_000);
                        Thread back = Daemons.start(() -> pump(upstream, client));
                        pump(client, upstream);
                        back.join();
                    } catch (IOException | InterruptedException e) {
                        // one connection ends; the relay goes on
                    }
                });
            }
        }
    }

    private static void pump(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[16384];
            for (int n; (n = in.read(buffer)) >= 0; ) {
                out.write(buffer, 0, n);
                out.flush();
            }
            to.shutdownOutput();
        } catch (IOException e) {
            try {
                to.close();
                from.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
