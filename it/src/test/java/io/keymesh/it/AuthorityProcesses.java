package io.keymesh.it;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.keymesh.schema.layout.KeyLayout;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * keymesh-authority replicas as real processes, started through {@code ops/bin/keymesh-authority}
 * from the built jar, each logging to a file. Everything started is killed on {@link #close()}.
 */
final class AuthorityProcesses implements AutoCloseable {
    private static final Path LAUNCHER = Path.of("..", "ops", "bin", "keymesh-authority").toAbsolutePath().normalize();

    record Replica(String name, Process process, int httpPort, Path log) {
    }

    private final Map<String, Replica> replicas = new LinkedHashMap<>();
    private final List<URI> endpoints;
    private final KeyLayout layout;
    private final Path keyFile;
    private final Path logs;
    private final int leaseTtlSeconds;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    AuthorityProcesses(List<URI> endpoints, KeyLayout layout, Path keyFile, Path logs, int leaseTtlSeconds) {
        this.endpoints = endpoints;
        this.layout = layout;
        this.keyFile = keyFile;
        this.logs = logs;
        this.leaseTtlSeconds = leaseTtlSeconds;
    }

    Replica start(String name) throws IOException {
        return start(name, List.of());
    }

    /** With more flags for keymesh-authority (retention settings, say). */
    Replica start(String name, List<String> extraArgs) throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path log = logs.resolve(name + ".log");
        List<String> argv = new ArrayList<>(List.of(LAUNCHER.toString(),
                "--endpoints", endpoints.stream().map(URI::toString).collect(Collectors.joining(",")),
                "--prefix", layout.prefix(), "--mesh", "it-mesh", "--signing-key", keyFile.toString(),
                "--overlay-cidr", "198.18.0.0/16", "--lease-ttl", Integer.toString(leaseTtlSeconds),
                "--candidate", name, "--http", "127.0.0.1:" + port));
        argv.addAll(extraArgs);
        Process process = new ProcessBuilder(argv)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Replica replica = new Replica(name, process, port, log);
        replicas.put(name, replica);
        return replica;
    }

    Replica get(String name) {
        return replicas.get(name);
    }

    /** The candidate whose election key is oldest: etcd's election leader. */
    static Optional<String> leader(Client client, KeyLayout layout) throws Exception {
        List<KeyValue> keys = client.getKVClient().get(io.keymesh.runtime.etcd.EtcdBytes.key(layout.election() + "/"),
                GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs();
        return keys.stream().min(Comparator.comparingLong(KeyValue::getCreateRevision))
                .map(kv -> kv.getValue().toString(StandardCharsets.UTF_8));
    }

    /** Waits until some replica other than {@code not} leads and says so on /metrics; returns its name. */
    String awaitLeader(Client client, String not, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> leader = leader(client, layout);
            if (leader.isPresent() && !leader.get().equals(not) && replicas.containsKey(leader.get())
                    && metric(leader.get(), "keymesh_authority_leader").orElse(0.0) == 1.0) {
                return leader.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no new leader within " + timeout + "; logs:\n" + logs());
    }

    Optional<Double> metric(String replica, String name) {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + replicas.get(replica).httpPort() + "/metrics")).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return response.body().lines().filter(l -> l.startsWith(name + " ")).findFirst()
                    .map(l -> Double.parseDouble(l.substring(name.length() + 1)));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    void signal(String replica, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(replicas.get(replica).process().pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -" + signal + " failed");
        }
    }

    String logs() {
        List<String> out = new ArrayList<>();
        for (Replica r : replicas.values()) {
            try {
                out.add("--- " + r.name() + "\n" + Files.readString(r.log()));
            } catch (IOException e) {
                out.add("--- " + r.name() + ": " + e.getMessage());
            }
        }
        return String.join("\n", out);
    }

    @Override
    public void close() {
        for (Replica r : replicas.values()) {
            r.process().destroyForcibly();
            try {
                r.process().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
