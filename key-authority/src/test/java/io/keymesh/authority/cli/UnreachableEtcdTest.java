package io.keymesh.authority.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.runtime.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CLI against an etcd it cannot use: one line on stderr naming the endpoint and the cause,
 * never a stack trace, and no later than the bound it names (no etcd needed: loopback ports).
 */
class UnreachableEtcdTest {
    private record Run(int exit, String out, List<String> err, Duration took) {
    }

    private static Run keymesh(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        long started = System.nanoTime();
        int exit = Cli.run(new KeymeshCli(), new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString().lines().toList(), Duration.ofNanos(System.nanoTime() - started));
    }

    @Test
    void nothingListeningAtTheEndpointIsSaidInOneLineWellBeforeTheTimeout() throws Exception {
        int dead;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = socket.getLocalPort();
        }
        String endpoint = "http://127.0.0.1:" + dead;
        Run run = keymesh("--endpoints", endpoint, "nodes");
        assertEquals(1, run.exit(), run.toString());
        assertEquals(List.of("keymesh: cannot reach etcd at [" + endpoint + "] (connection refused): is it running, and are --endpoints right?"),
                run.err());
        assertEquals("", run.out());
        assertTrue(run.took().compareTo(Context.RPC_TIMEOUT) < 0, "took " + run.took().toMillis() + " ms");
    }

    @Test
    void anEndpointThatAcceptsConnectionsButNeverAnswersEndsWithinTheTimeItNames() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) { // never accepts, never speaks
            String endpoint = "http://127.0.0.1:" + silent.getLocalPort();
            Run run = keymesh("--endpoints", endpoint, "nodes");
            assertEquals(1, run.exit(), run.toString());
            assertEquals(List.of("keymesh: etcd at [" + endpoint + "] did not answer within 10 s (accepts connections): "
                    + "is it etcd, and has it quorum?"), run.err());
            assertTrue(run.took().compareTo(Context.RPC_TIMEOUT) >= 0, "took " + run.took().toMillis() + " ms");
            assertTrue(run.took().compareTo(Context.RPC_TIMEOUT.plusSeconds(5)) < 0, "took " + run.took().toMillis() + " ms");
        }
    }
}
