package io.keymesh.testing.etcd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * etcd members started from the Debian {@code etcd} binary on free loopback ports, each with its
 * own data directory under one temp directory. Everything it starts is stopped and deleted on
 * {@link #close()}, and by a shutdown hook if the JVM exits first. Each temp directory names its
 * owner (JVM pid and start time); when the next cluster starts, directories whose owner is gone
 * (a test JVM killed outright) are cleaned up, with any etcd still running on them.
 */
public final class LocalEtcdCluster implements EtcdCluster {
    static final String DATA_DIR_MARKER = "keymesh-etcd-";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(15);
    private static final int START_ATTEMPTS = 3;

    private final Path binary;
    private final int size;
    private final Path root;
    private final String clusterToken;
    private final List<Member> members = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread shutdownHook = new Thread(this::destroyAll, "keymesh-etcd-cleanup");

    private static final String OWNER_FILE = "owner";
    // What etcd 3.4 logs once its client listener is bound ("...insecurely" or "...securely").
    private static final String READY = "serving client traffic";

    /** {@code process[0]} is the current process; {@code logOffset[0]} where its start-up began in the log. */
    private record Member(String name, int clientPort, int peerPort, Path dataDir, Path log, Process[] process, long[] logOffset) {
        URI clientUrl() {
            return URI.create("http://127.0.0.1:" + clientPort);
        }

        String peerUrl() {
            return "http://127.0.0.1:" + peerPort;
        }

        Optional<Process> running() {
            return Optional.ofNullable(process[0]).filter(Process::isAlive);
        }
    }

    private LocalEtcdCluster(Path binary, int size) throws IOException {
        this.binary = binary;
        this.size = size;
        this.root = Files.createTempDirectory(DATA_DIR_MARKER);
        this.clusterToken = root.getFileName().toString();
        Files.writeString(root.resolve(OWNER_FILE), ownerId(ProcessHandle.current()));
    }

    /** Starts {@code size} members and waits until every one reports healthy. */
    public static LocalEtcdCluster start(int size) {
        return start(size, System.getenv());
    }

    static LocalEtcdCluster start(int size, java.util.Map<String, String> env) {
        if (size < 1) {
            throw new IllegalArgumentException("an etcd cluster needs at least one member");
        }
        Path binary = findBinary(env).orElseThrow(() -> new EtcdUnavailableException(
                "no etcd binary found (looked at $KEYMESH_ETCD_BIN, $PATH and /usr/bin/etcd): install the Debian "
                        + "package etcd-server (ops/setup.sh does), or point the tests at a running etcd with ETCD_ENDPOINTS"));
        reapOrphans();
        IllegalStateException last = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            LocalEtcdCluster cluster;
            try {
                cluster = new LocalEtcdCluster(binary, size);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temp directory for etcd", e);
            }
            try {
                cluster.launch();
                return cluster;
            } catch (IllegalStateException e) {
                // Most often a port taken between choosing and binding it: try again with new ports.
                last = e;
                cluster.close();
            }
        }
        throw last;
    }

    static Optional<Path> findBinary(java.util.Map<String, String> env) {
        String configured = env.get("KEYMESH_ETCD_BIN");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured)).filter(Files::isExecutable);
        }
        String path = env.getOrDefault("PATH", "");
        return Stream.concat(Stream.of(path.split(":")).filter(s -> !s.isEmpty()).map(dir -> Path.of(dir, "etcd")),
                        Stream.of(Path.of("/usr/bin/etcd")))
                .filter(Files::isExecutable)
                .findFirst();
    }

    private void launch() {
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < size; i++) {
                ServerSocket client = freePort(held);
                ServerSocket peer = freePort(held);
                Path dataDir = root.resolve("m" + i);
                members.add(new Member("m" + i, client.getLocalPort(), peer.getLocalPort(), dataDir,
                        root.resolve("m" + i + ".log"), new Process[1], new long[1]));
            }
        } finally {
            held.forEach(LocalEtcdCluster::closeQuietly);
        }
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        for (int i = 0; i < size; i++) {
            spawn(i);
        }
        for (int i = 0; i < size; i++) {
            awaitHealthy(i);
        }
    }

    private static ServerSocket freePort(List<ServerSocket> held) {
        try {
            ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            held.add(socket);
            return socket;
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    private void spawn(int index) {
        Member m = members.get(index);
        String initialCluster = members.stream().map(x -> x.name() + "=" + x.peerUrl()).collect(Collectors.joining(","));
        List<String> command = List.of(binary.toString(),
                "--name", m.name(),
                "--data-dir", m.dataDir().toString(),
                "--listen-client-urls", m.clientUrl().toString(),
                "--advertise-client-urls", m.clientUrl().toString(),
                "--listen-peer-urls", m.peerUrl(),
                "--initial-advertise-peer-urls", m.peerUrl(),
                "--initial-cluster", initialCluster,
                "--initial-cluster-token", clusterToken,
                "--initial-cluster-state", "new",
                "--logger", "zap",
                "--log-outputs", "stderr");
        try {
            m.logOffset()[0] = Files.exists(m.log()) ? Files.size(m.log()) : 0;
            m.process()[0] = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + binary + ": " + e.getMessage(), e);
        }
    }

    private void awaitHealthy(int index) {
        Member m = members.get(index);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        HttpRequest request = HttpRequest.newBuilder(m.clientUrl().resolve("/health")).timeout(Duration.ofSeconds(2)).build();
        while (System.nanoTime() < deadline) {
            if (m.running().isEmpty()) {
                throw new IllegalStateException("etcd member " + m.name() + " exited during start-up; its log ends:\n" + logTail(m));
            }
            try {
                HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
                // /health alone could be another etcd on a port taken in between: our member must
                // also have said, in its own log since this start, that it serves, and still run.
                if (response.statusCode() == 200 && response.body().contains("\"health\":\"true\"")
                        && loggedSinceStart(m, READY) && m.running().isPresent()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for etcd", e);
            }
            sleep(100);
        }
        throw new IllegalStateException("etcd member " + m.name() + " not healthy within " + START_TIMEOUT.toSeconds()
                + " s; its log ends:\n" + logTail(m));
    }

    private static boolean loggedSinceStart(Member m, String text) {
        try {
            byte[] log = Files.readAllBytes(m.log());
            int from = (int) Math.min(log.length, m.logOffset()[0]);
            return new String(log, from, log.length - from, StandardCharsets.UTF_8).contains(text);
        } catch (IOException e) {
            return false;
        }
    }

    private static String logTail(Member m) {
        try {
            List<String> lines = Files.readAllLines(m.log(), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public List<URI> clientEndpoints() {
        return members.stream().map(Member::clientUrl).toList();
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public String description() {
        return "local etcd binary " + binary + ", " + size + " member(s) under " + root;
    }

    @Override
    public boolean supportsMemberFaults() {
        return true;
    }

    @Override
    public void stopMember(int index) {
        Member m = members.get(index);
        m.running().ifPresent(p -> {
            p.destroy();
            if (!waitFor(p, STOP_TIMEOUT)) {
                p.destroyForcibly();
                waitFor(p, STOP_TIMEOUT);
            }
        });
    }

    @Override
    public void killMember(int index) {
        members.get(index).running().ifPresent(p -> {
            p.destroyForcibly();
            waitFor(p, STOP_TIMEOUT);
        });
    }

    @Override
    public void startMember(int index) {
        if (members.get(index).running().isPresent()) {
            throw new IllegalStateException("etcd member " + index + " is already running");
        }
        // On an existing data directory etcd ignores the --initial-* flags and rejoins as itself.
        spawn(index);
        if (quorumIsUp()) {
            awaitHealthy(index);
        }
    }

    /** /health only turns true with a leader, which no member can have while quorum is lost. */
    private boolean quorumIsUp() {
        long up = members.stream().filter(m -> m.running().isPresent()).count();
        return up > size / 2;
    }

    @Override
    public void pauseMember(int index) {
        signal(index, "STOP");
    }

    @Override
    public void resumeMember(int index) {
        signal(index, "CONT");
    }

    private void signal(int index, String signal) {
        Process p = members.get(index).running().orElseThrow(() -> new IllegalStateException("member " + index + " is not running"));
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public boolean isRunning(int index) {
        return members.get(index).running().isPresent();
    }

    /** The temp directory holding every member's data and log; gone after {@link #close()}. */
    public Path dataRoot() {
        return root;
    }

    /** Process id of each member's latest process, in member order. */
    public List<Long> memberPids() {
        return members.stream().map(m -> m.process()[0]).filter(java.util.Objects::nonNull).map(Process::pid).toList();
    }

    @Override
    public void close() {
        destroyAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | IllegalArgumentException e) {
            // already shutting down, or the hook was never added
        }
    }

    private synchronized void destroyAll() {
        for (Member m : members) {
            Process p = m.process()[0];
            if (p != null) {
                // A paused member ignores SIGTERM until continued; SIGKILL works either way.
                p.destroyForcibly();
                waitFor(p, STOP_TIMEOUT);
            }
        }
        deleteTree(root);
    }

    /** "pid start-instant": what identifies a process even after its pid is reused. */
    private static String ownerId(ProcessHandle process) {
        return process.pid() + " " + process.info().startInstant().map(Object::toString).orElse("?");
    }

    /**
     * Cleans up after test JVMs that were killed outright: a temp directory whose owner process is
     * gone loses its etcd processes (found by their data directory) and its files. Directories of
     * live JVMs, this one included, are never touched; a directory without an owner file yet (being
     * created right now) is left alone unless it is over an hour old.
     */
    private static void reapOrphans() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> dirs = Files.list(tmp)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(DATA_DIR_MARKER) && Files.isDirectory(d))
                    .filter(LocalEtcdCluster::ownerIsGone)
                    .forEach(dir -> {
                        ProcessHandle.allProcesses()
                                .filter(p -> p.info().commandLine().map(c -> c.contains("--data-dir " + dir + "/")).orElse(false))
                                .forEach(ProcessHandle::destroyForcibly);
                        deleteTree(dir);
                    });
        } catch (IOException e) {
            // nothing to reap, or no permission to look: not this run's problem
        }
    }

    private static boolean ownerIsGone(Path dir) {
        Path owner = dir.resolve(OWNER_FILE);
        try {
            if (!Files.exists(owner)) {
                return Files.getLastModifiedTime(dir).toInstant().isBefore(java.time.Instant.now().minus(Duration.ofHours(1)));
            }
            String recorded = Files.readString(owner).strip();
            long pid = Long.parseLong(recorded.split(" ")[0]);
            return ProcessHandle.of(pid).map(p -> !ownerId(p).equals(recorded)).orElse(true);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir) || !dir.getFileName().toString().startsWith(DATA_DIR_MARKER)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a directory that cannot be deleted is left in the temp directory
        }
    }

    private static boolean waitFor(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void closeQuietly(ServerSocket socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
