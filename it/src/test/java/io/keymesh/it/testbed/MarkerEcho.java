package io.keymesh.it.testbed;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Payloads carrying a marker, for telling from an underlay capture whether a flow crossed it in
 * the clear. Run as its own process in a host's namespace.
 * {@code serve ADDRESS PORT SIZE} answers each SIZE-byte message with the same bytes reversed
 * (so the answer's marker differs from the question's), and prints where each connection came from. {@code send ADDRESS PORT SIZE COUNT MARKER}
 * sends COUNT messages of SIZE bytes, each holding MARKER, checks every answer, prints
 * {@code ok COUNT} and exits 0; it exits 1 on a wrong answer and 2 when the connection fails
 * or stalls for 20 s.
 */
public final class MarkerEcho {
    private MarkerEcho() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 4 && args[0].equals("serve")) {
            serve(InetAddress.getByName(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else if (args.length == 6 && args[0].equals("send")) {
            System.exit(send(InetAddress.getByName(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]), args[5]));
        } else {
            System.err.println("usage: MarkerEcho serve ADDRESS PORT SIZE | send ADDRESS PORT SIZE COUNT MARKER");
            System.exit(2);
        }
    }

    /** A message of {@code size} bytes: the marker repeated, then dots. */
    public static byte[] message(String marker, int size) {
        byte[] out = new byte[size];
        Arrays.fill(out, (byte) '.');
        byte[] m = marker.getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at + m.length <= size; at += m.length + 1) {
            System.arraycopy(m, 0, out, at, m.length);
        }
        return out;
    }

    public static byte[] reversed(byte[] message) {
        byte[] out = new byte[message.length];
        for (int i = 0; i < message.length; i++) {
            out[i] = message[message.length - 1 - i];
        }
        return out;
    }

    private static void serve(InetAddress address, int port, int size) throws IOException {
        try (ServerSocket server = new ServerSocket()) {
            server.setReuseAddress(true);
            server.bind(new InetSocketAddress(address, port));
            server.setSoTimeout(30 * 60_000); // a bounded life, should the test never come
            System.out.println("listening on " + server.getLocalSocketAddress());
            while (true) {
                Socket client = server.accept();
                System.out.println("connection from " + io.keymesh.schema.record.IpAddresses.format(client.getInetAddress()) + " port "
                        + client.getPort());
                Daemons.start(() -> {
                    try (client) {
                        DataInputStream in = new DataInputStream(client.getInputStream());
                        OutputStream out = client.getOutputStream();
                        byte[] buffer = new byte[size];
                        while (true) {
                            in.readFully(buffer);
                            out.write(reversed(buffer));
                            out.flush();
                        }
                    } catch (IOException e) {
                        // the client is done
                    }
                });
            }
        }
    }

    private static int send(InetAddress address, int port, int size, int count, String marker) {
        byte[] message = message(marker, size);
        byte[] expected = reversed(message);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address, port), 20_000);
            socket.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            byte[] answer = new byte[size];
            for (int i = 0; i < count; i++) {
                socket.getOutputStream().write(message);
                in.readFully(answer);
                if (!Arrays.equals(expected, answer)) {
                    System.out.println("wrong answer to message " + i);
                    return 1;
                }
            }
            System.out.println("ok " + count);
            return 0;
        } catch (IOException e) {
            System.out.println("failed: " + e);
            return 2;
        }
    }
}
