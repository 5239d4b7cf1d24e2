package io.keymesh.it.testbed;

import static io.keymesh.it.testbed.Shell.in;
import static io.keymesh.it.testbed.Shell.run;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.testing.tls.TestPki;
import io.keymesh.schema.keyfile.KeyFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The whole system on one machine: a switch (a network namespace with a bridge) holding a
 * 3-member etcd from the Debian binary and the authority replicas as separate processes, and node
 * hosts, each a namespace of its own with a veth into the switch, its own wireguard-go interface
 * and its own {@code keymesh-daemon} process started through {@code ops/bin}. Underlay
 * 198.51.100.0/24 (the switch is .1, host n is .10+n), overlay 198.18.0.0/16.
 *
 * <p>Every name carries this run's id (the wireguard-go socket directory is shared by all
 * namespaces). {@link #close()} removes everything: processes, namespaces (and with them the
 * veths), sockets and the run's directory. A JVM that dies before closing leaves a directory whose
 * owner is gone; the next testbed removes what that run left.
 */
public final class Testbed implements AutoCloseable {
    public static final Path BIN = Path.of(System.getProperty("keymesh.bin", "../ops/bin")).toAbsolutePath().normalize();
    static final String MESH = "testbed";
    public static final String SWITCH_ADDRESS = "198.51.100.1";
    private static final String DIR_PREFIX = "keymesh-testbed-";
    private static final int[] ETCD_CLIENT_PORTS = {2379, 22379, 32379};
    private static final int[] ETCD_PEER_PORTS = {2380, 22380, 32380};

    final String id;
    final Path dir;
    final String switchNs;
    private final Ed25519PrivateKey authorityKey = Ed25519PrivateKey.generate();
    private final List<Process> etcd = new ArrayList<>();
    private final Map<String, Process> authorities = new LinkedHashMap<>();
    private final Map<String, Host> hosts = new LinkedHashMap<>();
    private final Thread cleanupHook = new Thread(this::removeEverything, "keymesh-testbed-cleanup");
    private Process watchdog;
    /** The secure testbed's certificate authority; null when etcd speaks plain http without authentication. */
    private TestPki pki;

    private Testbed(String id, Path dir) {
        this.id = id;
        this.dir = dir;
        this.switchNs = "kmsw-" + id;
    }

    /** A switch with a 3-member etcd and {@code authorities} authority replicas, one of them leading. */
    public static Testbed start(int authorities) throws Exception {
        return start(authorities, false);
    }

    /**
     * Like {@link #start(int)}, with {@code secure} etcd: clients speak TLS and show a client
     * certificate, etcd's authentication is on with tokens that expire after
     * {@value #AUTH_TOKEN_TTL_SECONDS} s, and every program runs as its own etcd user with the
     * role {@code ops/etcd-access.sh} gives it (a password file and a certificate with the user's
     * name).
     */
    public static Testbed start(int authorities, boolean secure) throws Exception {
        requireTools();
        reapOrphans();
        byte[] raw = new byte[3];
        new SecureRandom().nextBytes(raw);
        String id = HexFormat.of().formatHex(raw);
        Path dir = Files.createTempDirectory(DIR_PREFIX + id + "-");
        Files.writeString(dir.resolve("owner"), Long.toString(ProcessHandle.current().pid()));
        Testbed bed = new Testbed(id, dir);
        Runtime.getRuntime().addShutdownHook(bed.cleanupHook);
        bed.startWatchdog();
        try {
            bed.buildSwitch();
            if (secure) {
                bed.pki = TestPki.create(dir.resolve("pki"));
                bed.pki.server("etcd-server", SWITCH_ADDRESS);
                bed.pki.client("root", false);
            }
            bed.startEtcd();
            if (secure) {
                bed.etcdAccess("enable-auth");
                bed.etcdUser("keymesh-authority", "authority");
                bed.etcdUser("keymesh-operator", "operator");
            }
            KeyFiles.writeSecret(dir.resolve("authority.key"), bed.authorityKey.toBase64Secret(), false);
            for (int i = 0; i < authorities; i++) {
                bed.startAuthority("a" + i);
            }
            bed.awaitLeader(null, Duration.ofSeconds(60));
            return bed;
        } catch (Exception | AssertionError e) {
            bed.close();
            throw e;
        }
    }

    /**
     * A detached shell that removes this run's namespaces (with every process in them), sockets
     * and directory as soon as this JVM is gone, even if it was SIGKILLed and no hook ran.
     */
    private void startWatchdog() throws IOException {
        String script = "while kill -0 " + ProcessHandle.current().pid() + " 2>/dev/null; do sleep 1; done; "
                + "for ns in $(ip netns list | awk '{print $1}' | grep -- '-" + id + "$'); do ip netns pids $ns | xargs -r kill -9; done; "
                + "sleep 1; for ns in $(ip netns list | awk '{print $1}' | grep -- '-" + id + "$'); do ip netns del $ns; done; "
                + "rm -f /var/run/wireguard/kw" + id + "*.sock; rm -rf '" + dir + "'";
        watchdog = new ProcessBuilder("setsid", "bash", "-c", script).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static void requireTools() {
        List<String> missing = Stream.of("/usr/bin/wireguard-go", "/usr/bin/wg", "/usr/bin/etcd", "/usr/bin/etcdctl", "/usr/bin/tcpdump",
                        "/usr/bin/curl", "/usr/bin/ping", "/usr/sbin/nft")
                .filter(p -> !Files.isExecutable(Path.of(p))).toList();
        String why = !"root".equals(System.getProperty("user.name")) ? "root" : missing.isEmpty() ? null : String.join(", ", missing)
                + " (run ops/setup.sh)";
        if (why != null) {
            if (System.getenv("CI") != null) {
                org.junit.jupiter.api.Assertions.fail("the testbed needs " + why);
            }
            org.junit.jupiter.api.Assumptions.abort("the testbed needs " + why);
        }
    }

    /** Removes what testbeds of JVMs that died without closing left behind. */
    static void reapOrphans() throws IOException {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> dirs = Files.list(tmp)) {
            for (Path dir : dirs.filter(p -> p.getFileName().toString().startsWith(DIR_PREFIX)).toList()) {
                Path owner = dir.resolve("owner");
                long pid;
                try {
                    pid = Long.parseLong(Files.readString(owner).strip());
                } catch (IOException | NumberFormatException e) {
                    continue; // being created right now, or not ours
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                String id = dir.getFileName().toString().substring(DIR_PREFIX.length(), DIR_PREFIX.length() + 6);
                new Testbed(id, dir).removeEverything();
            }
        }
    }

    private void buildSwitch() {
        run("ip", "netns", "add", switchNs);
        run(in(switchNs, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"));
        run(in(switchNs, "ip", "link", "set", "lo", "up"));
        run(in(switchNs, "ip", "link", "add", "br0", "type", "bridge"));
        run(in(switchNs, "ip", "address", "add", SWITCH_ADDRESS + "/24", "dev", "br0"));
        run(in(switchNs, "ip", "link", "set", "br0", "up"));
    }

    /** How long etcd's authentication tokens live in the secure testbed: short, so clients must renew them during a test. */
    public static final int AUTH_TOKEN_TTL_SECONDS = 5;

    String etcdEndpoints() {
        return java.util.Arrays.stream(ETCD_CLIENT_PORTS).mapToObj(p -> etcdScheme() + "://" + SWITCH_ADDRESS + ":" + p)
                .collect(Collectors.joining(","));
    }

    private String etcdScheme() {
        return pki == null ? "http" : "https";
    }

    /** Whether etcd speaks TLS and authenticates every client. */
    public boolean secure() {
        return pki != null;
    }

    private void startEtcd() throws Exception {
        for (int i = 0; i < 3; i++) {
            startEtcdMember(i);
        }
        for (int port : ETCD_CLIENT_PORTS) {
            String url = etcdScheme() + "://" + SWITCH_ADDRESS + ":" + port + "/health";
            Wait.until(Duration.ofSeconds(60), "etcd on port " + port + " is healthy", this::logs, () -> Shell.result(
                    in(switchNs, Stream.concat(Stream.of("curl", "-sf", "--max-time", "2"), Stream.concat(curlTls().stream(), Stream.of(url)))
                            .toArray(String[]::new))).output().contains("\"health\":\"true\""));
        }
    }

    private List<String> curlTls() {
        return pki == null ? List.of() : List.of("--cacert", pki.caFile().toString(), "--cert", pki.dir().resolve("root.pem").toString(),
                "--key", pki.dir().resolve("root-key.pem").toString());
    }

    /** etcdctl's connection to this testbed's etcd, as root (by its client certificate) when secure. */
    private List<String> etcdctlEnvironment() {
        List<String> env = new ArrayList<>(List.of("ETCDCTL_API=3", "ETCDCTL_ENDPOINTS=" + etcdEndpoints()));
        if (pki != null) {
            env.addAll(List.of("ETCDCTL_CACERT=" + pki.caFile(), "ETCDCTL_CERT=" + pki.dir().resolve("root.pem"),
                    "ETCDCTL_KEY=" + pki.dir().resolve("root-key.pem")));
        }
        return env;
    }

    /** Runs {@code ops/etcd-access.sh} in the switch as etcd's root. */
    String etcdAccess(String... args) {
        List<String> argv = new ArrayList<>(List.of("env"));
        argv.addAll(etcdctlEnvironment());
        argv.add(BIN.getParent().resolve("etcd-access.sh").toString());
        argv.addAll(List.of(args));
        return run(in(switchNs, argv.toArray(String[]::new)));
    }

    /**
     * Makes etcd user {@code user} with a fresh random password (in a 0600 file) and a client
     * certificate named after it, through {@code ops/etcd-access.sh COMMAND... USER PASSWORD_FILE}.
     * The authority's and operator's keys are PKCS#8 files, the nodes' SEC1 (as cfssl writes them).
     */
    void etcdUser(String user, String... command) throws Exception {
        Path password = pki.dir().resolve(user + ".password");
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        KeyFiles.writeSecret(password, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(raw), true);
        pki.client(user, !command[0].equals("node"));
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(List.of(user, password.toString()));
        etcdAccess(args.toArray(String[]::new));
    }

    /** The etcd connection options of {@code user}'s program: nothing when etcd is plain. */
    List<String> etcdOptions(String user) {
        if (pki == null) {
            return List.of();
        }
        return List.of("--etcd-ca-file", pki.caFile().toString(), "--etcd-cert-file", pki.dir().resolve(user + ".pem").toString(),
                "--etcd-key-file", pki.dir().resolve(user + "-key.pem").toString(), "--etcd-user", user,
                "--etcd-password-file", pki.dir().resolve(user + ".password").toString());
    }

    /** The directory of the secure testbed's certificates, keys and passwords, or null. */
    public Path pkiDirectory() {
        return pki == null ? null : pki.dir();
    }

    /** Stops (SIGKILL) etcd member {@code index}; {@link #startEtcdMember} brings it back on its data. */
    public void killEtcdMember(int index) throws InterruptedException {
        Process p = etcd.get(index);
        p.destroyForcibly();
        p.waitFor();
    }

    /** Starts member {@code index}: the first time with a new cluster, later on the data it has. */
    public void startEtcdMember(int index) throws Exception {
        String cluster = java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> "e" + i + "=http://" + SWITCH_ADDRESS + ":" + ETCD_PEER_PORTS[i]).collect(Collectors.joining(","));
        List<String> argv = new ArrayList<>(List.of(in(switchNs, "etcd", "--name", "e" + index, "--data-dir",
                dir.resolve("etcd-e" + index).toString(),
                "--listen-client-urls", etcdScheme() + "://" + SWITCH_ADDRESS + ":" + ETCD_CLIENT_PORTS[index],
                "--advertise-client-urls", etcdScheme() + "://" + SWITCH_ADDRESS + ":" + ETCD_CLIENT_PORTS[index],
                "--listen-peer-urls", "http://" + SWITCH_ADDRESS + ":" + ETCD_PEER_PORTS[index],
                "--initial-advertise-peer-urls", "http://" + SWITCH_ADDRESS + ":" + ETCD_PEER_PORTS[index],
                "--initial-cluster", cluster, "--initial-cluster-token", "kmtb-" + id, "--initial-cluster-state", "new")));
        if (pki != null) {
            argv.addAll(List.of("--client-cert-auth",
                    "--trusted-ca-file", pki.caFile().toString(), "--cert-file", pki.dir().resolve("etcd-server.pem").toString(),
                    "--key-file", pki.dir().resolve("etcd-server-key.pem").toString(),
                    "--auth-token-ttl", Integer.toString(AUTH_TOKEN_TTL_SECONDS)));
        }
        Process member = spawn("etcd-e" + index, argv.toArray(String[]::new));
        if (index < etcd.size()) {
            etcd.set(index, member);
        } else {
            etcd.add(member);
        }
    }

    /** Starts a replica; a name started before (and killed) gets its old HTTP port again. */
    public void startAuthority(String name) throws IOException {
        int port = authorities.containsKey(name) ? authorityPort(name) : 9470 + authorities.size() + 1;
        List<String> argv = new ArrayList<>(List.of(BIN.resolve("keymesh-authority").toString(),
                "--endpoints", etcdEndpoints(), "--mesh", MESH, "--signing-key", dir.resolve("authority.key").toString(),
                "--overlay-cidr", "198.18.0.0/16", "--lease-ttl", Long.toString(LEASE_TTL.toSeconds()), "--candidate", name,
                "--http", SWITCH_ADDRESS + ":" + port));
        argv.addAll(etcdOptions("keymesh-authority"));
        authorities.put(name, spawn("authority-" + name, in(switchNs, argv.toArray(String[]::new))));
    }

    private int authorityPort(String name) {
        return 9470 + new ArrayList<>(authorities.keySet()).indexOf(name) + 1;
    }

    /** The replica that leads (its /metrics says so), waiting up to {@code timeout} for one other than {@code not}. */
    public String awaitLeader(String not, Duration timeout) throws Exception {
        String[] leader = new String[1];
        Wait.until(timeout, "an authority leads", this::logs, () -> (leader[0] = currentLeader(not)) != null);
        return leader[0];
    }

    /** The replica other than {@code not} that says it leads, or null. */
    public String currentLeader(String not) {
        for (Map.Entry<String, Process> a : authorities.entrySet()) {
            if (!a.getKey().equals(not) && a.getValue().isAlive()
                    && curl(switchNs, "http://" + SWITCH_ADDRESS + ":" + authorityPort(a.getKey()) + "/metrics")
                            .contains("\nkeymesh_authority_leader 1")) {
                return a.getKey();
            }
        }
        return null;
    }

    /** Resumes a replica frozen by {@link #freezeAuthority}. */
    public void resumeAuthority(String name) {
        run("kill", "-CONT", Long.toString(authorities.get(name).pid()));
    }

    /** A series of a replica's /metrics (the exact name and labels), or -1 when it cannot be read. */
    public double authorityMetric(String name, String series) {
        String body = curl(switchNs, "http://" + SWITCH_ADDRESS + ":" + authorityPort(name) + "/metrics");
        return body.lines().filter(l -> l.startsWith(series + " ")).findFirst()
                .map(l -> Double.parseDouble(l.substring(series.length() + 1))).orElse(-1.0);
    }

    /** An authority replica's /readyz answer ("ready", or "not ready: why"). */
    public String authorityReadyz(String name) {
        return curlAnyStatus(switchNs, "http://" + SWITCH_ADDRESS + ":" + authorityPort(name) + "/readyz");
    }

    /** The names of the authority replicas started. */
    public List<String> authorityNames() {
        return List.copyOf(authorities.keySet());
    }

    public void killAuthority(String name) throws InterruptedException {
        Process p = authorities.get(name);
        p.destroyForcibly();
        p.waitFor();
    }

    /** Freezes an authority replica (SIGSTOP): it answers nothing and renews nothing until killed. */
    public void freezeAuthority(String name) throws Exception {
        run("kill", "-STOP", Long.toString(authorities.get(name).pid()));
    }

    /**
     * Keeps the leading replica's campaign lease alive from outside (etcdctl lease keep-alive),
     * so while that replica is frozen nobody leads and nobody can take over; destroy the returned
     * process to let the lease run out, {@link #LEASE_TTL} later.
     */
    public Process holdLeaderLease() throws Exception {
        String json = etcdctl("get", io.keymesh.schema.layout.KeyLayout.defaults().election(), "--prefix", "-w", "json");
        com.fasterxml.jackson.databind.JsonNode kvs = io.keymesh.schema.json.Json.mapper().readTree(json).path("kvs");
        long lease = 0;
        long lowest = Long.MAX_VALUE;
        for (com.fasterxml.jackson.databind.JsonNode kv : kvs) {
            if (kv.path("create_revision").asLong() < lowest) {
                lowest = kv.path("create_revision").asLong();
                lease = kv.path("lease").asLong();
            }
        }
        if (lease == 0) {
            throw new IllegalStateException("no campaign under " + io.keymesh.schema.layout.KeyLayout.defaults().election() + ": " + json);
        }
        List<String> argv = new ArrayList<>(List.of("env"));
        argv.addAll(etcdctlEnvironment());
        argv.addAll(List.of("etcdctl", "lease", "keep-alive", Long.toHexString(lease)));
        return spawn("lease-holder", in(switchNs, argv.toArray(String[]::new)));
    }

    /** A new host; {@code behindNat} hosts advertise no endpoint. Its daemon is not started yet. */
    public Host addHost(String name, boolean behindNat) {
        return addHost(name, behindNat, false);
    }

    /** A new host; a {@code dualStack} one also has an IPv6 underlay address, and advertises both. */
    public Host addHost(String name, boolean behindNat, boolean dualStack) {
        int n = hosts.size() + 1;
        Host host = new Host(this, name, n, behindNat, dualStack);
        hosts.put(name, host);
        host.plug();
        return host;
    }

    /** Adds hosts {@code names}, starts their daemons with join tokens, and waits until each has every other as a peer and is ready. */
    public List<Host> joinHosts(Duration wait, String... names) throws Exception {
        for (String name : names) {
            addHost(name, false).startDaemon(true);
        }
        List<Host> all = hosts();
        Wait.until(wait, "every host has every other as a peer and is ready", this::logs,
                () -> all.stream().allMatch(h -> h.wgPeers().size() == all.size() - 1 && h.ready()));
        return all;
    }

    /** Every host has exactly the current keys of the others, is ready, and reaches each of them over the overlay. */
    public void awaitFullMesh(List<Host> hosts, Duration wait) throws Exception {
        for (Host h : hosts) {
            Wait.until(wait, h + " has exactly the current keys of its peers and is ready", this::logs, () -> h.ready()
                    && h.wgPeers().equals(hosts.stream().filter(o -> o != h).map(Host::publicKey).sorted().toList()));
        }
        for (Host h : hosts) {
            for (Host o : hosts) {
                if (o != h) {
                    String target = o.overlayAddress();
                    // A handshake refused while the other end was still starting is retried by WireGuard after 5 s.
                    Wait.until(wait, h + " reaches " + o, this::logs,
                            () -> Shell.result(in(h.namespace, "ping", "-n", "-q", "-c", "1", "-W", "2", target)).exit() == 0);
                }
            }
        }
    }

    public List<Host> hosts() {
        return List.copyOf(hosts.values());
    }

    /** {@code keymesh} (the operator CLI) run in the switch, where etcd is; a failure is an error. */
    public String keymesh(String... args) {
        Shell.Result result = keymeshResult(args);
        if (result.exit() != 0) {
            throw new IllegalStateException("keymesh " + String.join(" ", args) + " failed (exit " + result.exit() + "): " + result.output());
        }
        return result.output();
    }

    /** {@code keymesh} run in the switch, failing or not. */
    public Shell.Result keymeshResult(String... args) {
        return Shell.result(in(switchNs, keymeshArgv(args)));
    }

    /** The {@code keymesh} command line for this testbed (run it in {@link #switchNamespace()}). */
    public String[] keymeshArgv(String... args) {
        List<String> argv = new ArrayList<>(List.of(BIN.resolve("keymesh").toString(), "--endpoints", etcdEndpoints(), "--mesh", MESH,
                "--trust-key", trustKey()));
        argv.addAll(etcdOptions("keymesh-operator"));
        argv.addAll(List.of(args));
        return argv.toArray(String[]::new);
    }

    /** The switch's namespace, where etcd and the authorities run. */
    public String switchNamespace() {
        return switchNs;
    }

    /** {@code etcdctl} (v3 API) run in the switch, as etcd's root when secure. */
    public String etcdctl(String... args) {
        List<String> argv = new ArrayList<>(List.of("env"));
        argv.addAll(etcdctlEnvironment());
        argv.add("etcdctl");
        argv.addAll(List.of(args));
        return run(in(switchNs, argv.toArray(String[]::new)));
    }

    /** The authority TTL the replicas run with. */
    public static final Duration LEASE_TTL = Duration.ofSeconds(3);

    /**
     * Captures the underlay traffic of {@code host} on its port of the switch into {@code pcap}
     * until closed, leaving out ARP and traffic to the switch itself (etcd's). (A capture on "any"
     * interface sees no bridged frames on this machine's kernel; one port at a time does.)
     */
    public AutoCloseable captureUnderlay(Host host, Path pcap) throws Exception {
        return capture(switchNs, host.switchPort(), pcap, "not arp and not host " + SWITCH_ADDRESS);
    }

    /** Captures the overlay as {@code host}'s WireGuard interface carries it (the cleartext side). */
    public AutoCloseable captureOverlay(Host host, Path pcap) throws Exception {
        return capture(host.namespace, host.iface, pcap, "icmp");
    }

    private AutoCloseable capture(String ns, String iface, Path pcap, String filter) throws Exception {
        Path log = dir.resolve("tcpdump-" + iface + ".log");
        Process tcpdump = new ProcessBuilder(in(ns, "tcpdump", "-i", iface, "-n", "-U", "-w", pcap.toString(), filter))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Wait.until(Duration.ofSeconds(20), "tcpdump listens on " + iface, this::logs, () -> Files.readString(log).contains("listening on"));
        return () -> {
            tcpdump.destroy(); // SIGTERM: tcpdump writes out what it has
            tcpdump.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        };
    }

    String trustKey() {
        return authorityKey.publicKey().base64();
    }

    static String curl(String ns, String url) {
        try {
            return run(in(ns, "curl", "-sf", "--max-time", "2", url));
        } catch (IllegalStateException e) {
            return "";
        }
    }

    /** The body whatever the HTTP status (a 503 says why); empty when nothing answers. */
    static String curlAnyStatus(String ns, String url) {
        try {
            return run(in(ns, "curl", "-s", "--max-time", "2", url));
        } catch (IllegalStateException e) {
            return "";
        }
    }

    /** A process in {@code host}'s namespace, logging to {@code name}.log; killed with the namespace at the end. */
    public Process spawnIn(Host host, String name, String... command) throws IOException {
        return spawn(name, in(host.namespace, command));
    }

    /** A Java class of this test build, run as its own process in {@code host}'s namespace. */
    public Process javaIn(Host host, String name, Class<?> main, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xmx64m", "-cp",
                System.getProperty("java.class.path"), main.getName()));
        argv.addAll(List.of(args));
        return spawnIn(host, name, argv.toArray(String[]::new));
    }

    /** A Java server class of this test build, started like {@link #javaIn}; returns once its log says it is listening. */
    public Process serverIn(Host host, String name, Class<?> main, String... args) throws Exception {
        Process server = javaIn(host, name, main, args);
        Path log = dir.resolve(name + ".log");
        Wait.until(Duration.ofSeconds(60), name + " listens", this::logs,
                () -> Files.exists(log) && Files.readString(log).contains("listening on"));
        return server;
    }

    /** {@code value} signed with the testbed's authority key, as the leader would sign it. */
    public byte[] signAsAuthority(Object value) {
        return io.keymesh.schema.verify.AuthoritySignature.sign(value, authorityKey);
    }

    /** The testbed's working directory (logs, state, captures). */
    public Path dir() {
        return dir;
    }

    Process spawn(String name, String... command) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".log").toFile())).start();
    }

    /** The last lines of every log of this run, for a failure message. */
    public String logs() {
        StringBuilder out = new StringBuilder();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
                List<String> lines = Files.readAllLines(log);
                out.append("\n--- ").append(log.getFileName()).append('\n')
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 12), lines.size())));
            }
        } catch (IOException e) {
            out.append("(logs unreadable: ").append(e.getMessage()).append(')');
        }
        return out.toString();
    }

    @Override
    public void close() {
        removeEverything();
        if (watchdog != null) {
            watchdog.destroyForcibly();
        }
        try {
            Runtime.getRuntime().removeShutdownHook(cleanupHook);
        } catch (IllegalStateException e) {
            // the JVM is exiting: the hook runs anyway
        }
    }

    /** Every process in every namespace of this run, the namespaces, the sockets, the directory. */
    private void removeEverything() {
        etcd.forEach(Process::destroyForcibly);
        authorities.values().forEach(Process::destroyForcibly);
        hosts.values().forEach(Host::destroyDaemon);
        List<String> namespaces;
        try {
            namespaces = run("ip", "netns", "list").lines().map(l -> l.split("\\s+")[0]).filter(ns -> ns.endsWith("-" + id)).toList();
        } catch (IllegalStateException e) {
            namespaces = List.of();
        }
        for (String ns : namespaces) {
            try {
                for (String pid : run("ip", "netns", "pids", ns).split("\\s+")) {
                    if (!pid.isBlank()) {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            } catch (RuntimeException e) {
                // gone already
            }
        }
        for (String ns : namespaces) {
            for (int attempt = 0; attempt < 20; attempt++) {
                try {
                    run("ip", "netns", "del", ns);
                    break;
                } catch (IllegalStateException e) {
                    sleep(100); // a process still on its way out
                }
            }
        }
        try (Stream<Path> sockets = Files.list(Path.of("/var/run/wireguard"))) {
            for (Path socket : sockets.filter(p -> p.getFileName().toString().startsWith("kw" + id)).toList()) {
                Files.deleteIfExists(socket);
            }
        } catch (IOException e) {
            // no socket directory: nothing to remove
        }
        for (Process p : etcd) {
            waitQuietly(p);
        }
        authorities.values().forEach(Testbed::waitQuietly);
        // Everything but the owner file first, then the owner file, then the directory: a run
        // interrupted half-way still names its owner, so the next run can finish the job.
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir) && !p.equals(dir.resolve("owner"))) {
                    deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            // already removed
        }
        deleteQuietly(dir.resolve("owner"));
        deleteQuietly(dir);
    }

    private static void waitQuietly(Process p) {
        try {
            p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // left for the next run
        }
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
