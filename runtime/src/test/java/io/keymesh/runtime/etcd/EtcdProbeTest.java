package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a plain connection to each etcd endpoint tells, against loopback ports with and without a listener. */
class EtcdProbeTest {
    /** A loopback port nothing listens on (it was free a moment ago). */
    static int deadPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Test
    void nothingListeningIsRefusedAndSaidInWords() throws Exception {
        int dead = deadPort();
        EtcdProbe.Report report = EtcdProbe.probe(List.of(URI.create("http://127.0.0.1:" + dead)), Duration.ofSeconds(2));
        assertEquals(EtcdProbe.Outcome.REFUSED, report.findings().get(0).outcome());
        assertTrue(report.nothingListens());
        assertFalse(report.anyAccepts());
        assertEquals("connection refused", report.toString());
    }

    @Test
    void severalEndpointsAreNamedEachWithWhatItsConnectionFound() throws Exception {
        int dead = deadPort();
        try (ServerSocket listening = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            EtcdProbe.Report report = EtcdProbe.probe(List.of(URI.create("http://127.0.0.1:" + dead),
                    URI.create("https://127.0.0.1:" + listening.getLocalPort())), Duration.ofSeconds(2));
            assertFalse(report.nothingListens());
            assertTrue(report.anyAccepts());
            assertEquals("127.0.0.1:" + dead + " connection refused; 127.0.0.1:" + listening.getLocalPort() + " accepts connections",
                    report.toString());
        }
    }
}
