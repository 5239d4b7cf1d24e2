package io.keymesh.it.testbed;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * Bulk TCP and round trips between two hosts, run as its own process in each namespace.
 * {@code serve ADDRESS PORT}: per connection, the first byte says {@code B} (bulk: read and
 * discard until EOF, then answer with one byte) or {@code R} (answer every 64-byte message).
 * {@code bulk ADDRESS PORT SECONDS} prints {@code bulk <MB/s>}; {@code rtt ADDRESS PORT COUNT}
 * prints {@code rtt <p50 µs> <p99 µs>}.
 */
public final class Throughput {
    private Throughput() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress address = InetAddress.getByName(args[1]);
        int port = Integer.parseInt(args[2]);
        switch (args[0]) {
            case "serve" -> serve(address, port);
            case "bulk" -> bulk(address, port, Integer.parseInt(args[3]));
            case "rtt" -> rtt(address, port, Integer.parseInt(args[3]));
            default -> throw new IllegalArgumentException("usage: Throughput serve|bulk|rtt ADDRESS PORT [SECONDS|COUNT]");
        }
    }

    private static void serve(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(address, port));
            server.setSoTimeout(30 * 60_000);
            System.out.println("listening on " + server.getLocalSocketAddress());
            while (true) {
                Socket client = server.accept();
                Daemons.start(() -> {
                    try (client) {
                        client.setTcpNoDelay(true);
                        InputStream in = client.getInputStream();
                        OutputStream out = client.getOutputStream();
                        int kind = in.read();
                        byte[] buffer = new byte[kind == 'R' ? 64 : 65536];
                        if (kind == 'B') {
                            while (in.read(buffer) >= 0) {
                                // discard
                            }
                            out.write(1);
                        } else {
                            DataInputStream data = new DataInputStream(in);
                            while (true) {
                                data.readFully(buffer);
                                out.write(buffer);
                            }
                        }
                    } catch (IOException e) {
                        // the client is done
                    }
                });
            }
        }
    }

    private static void bulk(InetAddress address, int port, int seconds) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 10_000);
            OutputStream out = socket.getOutputStream();
            out.write('B');
            byte[] chunk = new byte[65536];
            long sent = 0;
            long start = System.nanoTime();
            long end = start + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                out.write(chunk);
                sent += chunk.length;
            }
            socket.shutdownOutput();
            socket.setSoTimeout(60_000);
            socket.getInputStream().read(); // everything arrived
            double elapsed = (System.nanoTime() - start) / 1e9;
            System.out.printf("bulk %.1f%n", sent / elapsed / 1e6);
        }
    }

    private static void rtt(InetAddress address, int port, int count) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 10_000);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            out.write('R');
            byte[] message = new byte[64];
            List<Long> micros = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                long t = System.nanoTime();
                out.write(message);
                in.readFully(message);
                if (i >= count / 10) { // the first tenth warms up
                    micros.add((System.nanoTime() - t) / 1000);
                }
            }
            micros.sort(null);
            System.out.printf("rtt %d %d%n", micros.get(micros.size() / 2), micros.get(micros.size() * 99 / 100));
        }
    }
}
