package io.keymesh.it.testbed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A long-lived TCP session for the testbed, run as its own process inside a host's namespace.
 * {@code serve ADDRESS PORT} echoes what one client sends. {@code connect ADDRESS PORT FILE}
 * sends a numbered message every 10 ms and reads each echo back, and writes to FILE (each line
 * flushed at once, so the test can read it while the session runs):
 * {@code gap <wall clock ms at the gap's start> <ms>} for every pause of 50 ms or more between
 * echoes, and at the end {@code end <echoes> <longest gap ms>} or {@code reset <message>} if
 * the connection ever broke. It stops when FILE + ".stop" appears, after at most 30 minutes.
 */
public final class TrafficProbe {
    private static final int INTERVAL_MS = 10;
    private static final long GAP_MS = 50;
    private static final long MAX_RUN_MS = 30 * 60_000;

    private TrafficProbe() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && args[0].equals("serve")) {
            serve(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        } else if (args.length >= 4 && args[0].equals("connect")) {
            connect(InetAddress.getByName(args[1]), Integer.parseInt(args[2]), Path.of(args[3]));
        } else {
            System.err.println("usage: TrafficProbe serve ADDRESS PORT | connect ADDRESS PORT FILE");
            System.exit(2);
        }
    }

    private static void serve(InetAddress address, int port) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(address, port));
            server.setSoTimeout((int) MAX_RUN_MS);
            try (Socket client = server.accept()) {
                client.setTcpNoDelay(true);
                DataInputStream in = new DataInputStream(client.getInputStream());
                DataOutputStream out = new DataOutputStream(client.getOutputStream());
                while (true) {
                    long n = in.readLong();
                    out.writeLong(n);
                    out.flush();
                }
            } catch (java.io.EOFException e) {
                // the client is done
            }
        }
    }

    private static void connect(InetAddress address, int port, Path file) throws Exception {
        Path stop = Path.of(file + ".stop");
        try (PrintStream report = new PrintStream(Files.newOutputStream(file), true, StandardCharsets.US_ASCII);
             Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 10_000);
            socket.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            List<Long> echoes = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try {
                    long last = System.currentTimeMillis();
                    while (true) {
                        in.readLong();
                        long now = System.currentTimeMillis();
                        if (now - last >= GAP_MS) {
                            report.println("gap " + last + " " + (now - last));
                        }
                        synchronized (echoes) {
                            echoes.add(now - last);
                        }
                        last = now;
                    }
                } catch (IOException e) {
                    // closed at the end, or reset: the writer tells which
                }
            });
            reader.setDaemon(true);
            reader.start();
            long started = System.currentTimeMillis();
            try {
                for (long n = 0; !Files.exists(stop) && System.currentTimeMillis() - started < MAX_RUN_MS; n++) {
                    out.writeLong(n);
                    out.flush();
                    Thread.sleep(INTERVAL_MS);
                }
                Thread.sleep(500); // the last echoes
            } catch (IOException e) {
                report.println("reset " + e.getMessage());
                return;
            }
            if (!reader.isAlive()) {
                report.println("reset the echo stream broke");
                return;
            }
            synchronized (echoes) {
                report.println("end " + echoes.size() + " " + echoes.stream().mapToLong(Long::longValue).max().orElse(0));
            }
            socket.shutdownOutput();
        }
    }
}
