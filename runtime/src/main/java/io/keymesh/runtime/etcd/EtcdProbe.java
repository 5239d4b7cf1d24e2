package io.keymesh.runtime.etcd;

import io.keymesh.runtime.DaemonThreads;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * Why etcd does not answer, in words. jetcd's calls wait for a connection without saying why
 * there is none (they wait for the channel to be ready, and gRPC keeps its connection errors to
 * itself), so a program that gets no answer opens a plain TCP connection to every endpoint, all
 * at once and within a bound, and tells what it found: refused (nothing listens there), no answer
 * (the packets are dropped on the way, or the host is down), an unknown host, or a connection
 * accepted (then the trouble is above TCP: TLS, or an etcd that cannot answer, without quorum).
 */
public final class EtcdProbe {
    private static final int DEFAULT_PORT = 2379;
    private static final Executor THREADS = task -> DaemonThreads.named("keymesh-etcd-probe").newThread(task).start();

    private EtcdProbe() {
    }

    public enum Outcome { REFUSED, NO_ANSWER, UNKNOWN_HOST, ACCEPTED, FAILED }

    /** What a connection to one endpoint ({@code host:port}) found; {@code what} says it in words. */
    public record Finding(String endpoint, Outcome outcome, String what) {
    }

    /** What the connections found, one finding an endpoint, in the endpoints' order. */
    public record Report(List<Finding> findings) {
        /** Nothing listens at any endpoint (every one refused, or its name is unknown): waiting longer is pointless. */
        public boolean nothingListens() {
            return findings.stream().allMatch(f -> f.outcome() == Outcome.REFUSED || f.outcome() == Outcome.UNKNOWN_HOST);
        }

        /** Some endpoint accepts connections: what fails is TLS, or etcd itself. */
        public boolean anyAccepts() {
            return findings.stream().anyMatch(f -> f.outcome() == Outcome.ACCEPTED);
        }

        /** "connection refused" for one endpoint; "a:2379 connection refused; b:2379 unknown host" for several. */
        @Override
        public String toString() {
            if (findings.size() == 1) {
                return findings.get(0).what();
            }
            return findings.stream().map(f -> f.endpoint() + " " + f.what()).collect(Collectors.joining("; "));
        }
    }

    /** Connects to every endpoint at once; takes at most about {@code within}. */
    public static Report probe(List<URI> endpoints, Duration within) {
        List<CompletableFuture<Finding>> connections = new ArrayList<>();
        for (URI endpoint : endpoints) {
            connections.add(CompletableFuture.supplyAsync(() -> connect(endpoint, within), THREADS));
        }
        long deadline = System.nanoTime() + within.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
        List<Finding> findings = new ArrayList<>();
        for (int i = 0; i < endpoints.size(); i++) {
            try {
                findings.add(connections.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (TimeoutException e) { // a slow name lookup, say
                findings.add(noAnswer(address(endpoints.get(i)), within));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                findings.add(new Finding(address(endpoints.get(i)), Outcome.FAILED, "not checked (interrupted)"));
            } catch (ExecutionException e) {
                findings.add(new Finding(address(endpoints.get(i)), Outcome.FAILED, String.valueOf(e.getCause())));
            }
        }
        return new Report(findings);
    }

    private static Finding connect(URI endpoint, Duration within) {
        String name = address(endpoint);
        InetSocketAddress address = new InetSocketAddress(endpoint.getHost(), port(endpoint));
        if (address.isUnresolved()) {
            return new Finding(name, Outcome.UNKNOWN_HOST, "unknown host");
        }
        try (Socket socket = new Socket()) {
            socket.connect(address, (int) Math.max(1, within.toMillis()));
            return new Finding(name, Outcome.ACCEPTED, "accepts connections");
        } catch (SocketTimeoutException e) {
            return noAnswer(name, within);
        } catch (ConnectException e) {
            // "Connection refused"; on some systems also a timeout, which says so
            return e.getMessage() != null && e.getMessage().toLowerCase(java.util.Locale.ROOT).contains("timed out")
                    ? noAnswer(name, within) : new Finding(name, Outcome.REFUSED, "connection refused");
        } catch (IOException | RuntimeException e) {
            return new Finding(name, Outcome.FAILED, e.getMessage() == null ? e.getClass().getSimpleName()
                    : e.getMessage().toLowerCase(java.util.Locale.ROOT));
        }
    }

    private static Finding noAnswer(String name, Duration within) {
        return new Finding(name, Outcome.NO_ANSWER, "no answer to a connection within " + seconds(within));
    }

    private static String address(URI endpoint) {
        return endpoint.getHost() + ":" + port(endpoint);
    }

    private static int port(URI endpoint) {
        return endpoint.getPort() == -1 ? DEFAULT_PORT : endpoint.getPort();
    }

    /** "2 s", or "0.5 s" below a second. */
    static String seconds(Duration duration) {
        return duration.toMillis() % 1000 == 0 ? duration.toSeconds() + " s" : duration.toMillis() / 1000.0 + " s";
    }
}
