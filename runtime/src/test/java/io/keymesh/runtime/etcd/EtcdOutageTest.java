package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An etcd that does not answer is said early, in one line naming the endpoints and the cause, once
 * for all of a program's watches, and its return once: against a loopback port nothing listens on.
 */
class EtcdOutageTest {
    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    private PrintStream out;
    private PrintStream err;

    @BeforeEach
    void capture() {
        out = System.out;
        err = System.err;
        PrintStream both = new PrintStream(logged, true, StandardCharsets.UTF_8);
        System.setOut(both);
        System.setErr(both);
    }

    @AfterEach
    void restore() {
        System.setOut(out);
        System.setErr(err);
        out.print(logged.toString(StandardCharsets.UTF_8));
    }

    private List<String> lines(String containing) {
        return Arrays.stream(logged.toString(StandardCharsets.UTF_8).split("\n")).filter(l -> l.contains(containing)).toList();
    }

    @Test
    void watchesOnADeadEtcdSayItOnceEarlyNamingTheEndpointAndTheCause() throws Exception {
        URI dead = URI.create("http://127.0.0.1:" + EtcdProbeTest.deadPort());
        EtcdOutage outage = new EtcdOutage(List.of(dead), "the peers stay as they are", Duration.ofMillis(500));
        PrefixWatch.Listener ignore = new PrefixWatch.Listener() {
            @Override
            public void snapshot(List<Change> all, long revision) {
            }

            @Override
            public void changes(List<Change> changes, long upTo) {
            }

            @Override
            public void synced() {
            }
        };
        long started = System.nanoTime();
        try (Client client = EtcdClients.connect(EtcdAccess.plain(List.of(dead)));
             PrefixWatch nodes = new PrefixWatch(client, "/test/nodes/", PrefixWatch.Liveness.DEFAULT, outage, ignore);
             PrefixWatch config = new PrefixWatch(client, "/test/config", PrefixWatch.Liveness.DEFAULT, outage, ignore)) {
            nodes.start();
            config.start();
            while (lines("has not answered").isEmpty() && System.nanoTime() - started < TimeUnit.SECONDS.toNanos(10)) {
                Thread.sleep(50);
            }
            long saidAfter = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            Thread.sleep(1500); // time enough for a second line, were there one
            List<String> said = lines("has not answered");
            assertEquals(1, said.size(), logged.toString(StandardCharsets.UTF_8));
            assertTrue(saidAfter < 5000, "said after " + saidAfter + " ms");
            assertTrue(said.get(0).contains("etcd at [" + dead + "] has not answered a read for 0.5 s (connection refused); "
                    + "the peers stay as they are, retrying until it does"), said.get(0));
            assertFalse(logged.toString(StandardCharsets.UTF_8).contains("TimeoutException"), logged.toString(StandardCharsets.UTF_8));
            assertFalse(nodes.isSynced() || config.isSynced());
        }
    }

    @Test
    void aReadGoesOnWaitingToItsOwnBoundAndItsAnswerIsSaidOnce() throws Exception {
        URI dead = URI.create("http://127.0.0.1:" + EtcdProbeTest.deadPort());
        EtcdOutage outage = new EtcdOutage(List.of(dead), "nothing changes", Duration.ofMillis(200));
        assertThrows(TimeoutException.class, () -> outage.await(new CompletableFuture<>(), Duration.ofMillis(600)));
        CompletableFuture<String> late = new CompletableFuture<>();
        CompletableFuture.delayedExecutor(700, TimeUnit.MILLISECONDS).execute(() -> late.complete("answer"));
        CompletableFuture<String> other = CompletableFuture.supplyAsync(() -> {
            try {
                return outage.await(late, Duration.ofSeconds(5));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals("answer", outage.await(late, Duration.ofSeconds(5)));
        assertEquals("answer", other.get(5, TimeUnit.SECONDS));
        assertEquals(1, lines("has not answered").size(), logged.toString(StandardCharsets.UTF_8));
        assertEquals(1, lines("answers again").size(), logged.toString(StandardCharsets.UTF_8));
    }
}
