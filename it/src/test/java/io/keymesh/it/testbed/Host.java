package io.keymesh.it.testbed;

import static io.keymesh.it.testbed.Shell.in;
import static io.keymesh.it.testbed.Shell.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.keyfile.KeyFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One node host of the testbed: a network namespace with {@code eth0} plugged into the switch,
 * and the {@code keymesh-daemon} process that creates and runs its wireguard-go interface.
 */
public final class Host {
    private static final ObjectMapper JSON = new ObjectMapper();
    public static final int DAEMON_HTTP_PORT = 9471;

    private final Testbed bed;
    public final String name;
    public final String namespace;
    public final String iface;
    public final String underlay;
    /** The host's IPv6 underlay address, or null when it has IPv4 only. */
    public final String underlay6;
    private final int n;
    private final boolean behindNat;
    private Process daemon;
    private List<String> daemonOptions = List.of();
    private String etcdEndpoints;

    Host(Testbed bed, String name, int n, boolean behindNat, boolean dualStack) {
        this.bed = bed;
        this.name = name;
        this.n = n;
        this.behindNat = behindNat;
        this.namespace = "kmh" + n + "-" + bed.id;
        this.iface = "kw" + bed.id + n;
        this.underlay = "198.51.100." + (10 + n);
        this.underlay6 = dualStack ? "2001:db8:100::" + (10 + n) : null;
    }

    /** More daemon options for every later {@link #startDaemon} (host mode, say); replaces earlier ones. */
    public void daemonOptions(String... options) {
        daemonOptions = List.of(options);
    }

    /** The etcd endpoints this host's daemon uses from its next start (default: the switch's members). */
    public void etcdEndpoints(String endpoints) {
        etcdEndpoints = endpoints;
    }

    /** This host's port on the switch (the other end of its eth0). */
    String switchPort() {
        return "vs" + bed.id + n;
    }

    /** The namespace and its cable into the switch, made in place (nothing ever sits in the host's own namespace). */
    void plug() {
        run("ip", "netns", "add", namespace);
        // IPv4 only: no IPv6 link-local chatter on the underlay (and no addresses outside the test ranges)
        // A dual-stack host has IPv6 without link-local addresses (addr_gen_mode 1): only 2001:db8::/32 appears.
        run(in(namespace, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=" + (underlay6 == null ? 1 : 0),
                "net.ipv6.conf.default.disable_ipv6=" + (underlay6 == null ? 1 : 0), "net.ipv6.conf.default.addr_gen_mode=1"));
        run(in(namespace, "ip", "link", "set", "lo", "up"));
        run("ip", "link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", switchPort(), "netns", bed.switchNs);
        run(in(namespace, "ip", "address", "add", underlay + "/24", "dev", "eth0"));
        if (underlay6 != null) {
            run(in(namespace, "ip", "address", "add", underlay6 + "/64", "dev", "eth0", "nodad"));
        }
        run(in(namespace, "ip", "link", "set", "eth0", "up"));
        run(in(bed.switchNs, "ip", "link", "set", switchPort(), "master", "br0"));
        run(in(bed.switchNs, "ip", "link", "set", switchPort(), "up"));
    }

    /** Starts the daemon; with {@code join} it gets a fresh join token file first. */
    public void startDaemon(boolean join) throws Exception {
        List<String> argv = new ArrayList<>(List.of(Testbed.BIN.resolve("keymesh-daemon").toString(),
                "--endpoints", etcdEndpoints != null ? etcdEndpoints : bed.etcdEndpoints(), "--mesh", Testbed.MESH, "--node", name, "--trust-key", bed.trustKey(),
                "--state-dir", stateDir().toString(), "--interface", iface, "--implementation", "wireguard-go",
                "--http", "127.0.0.1:" + DAEMON_HTTP_PORT));
        if (!behindNat) {
            argv.addAll(List.of("--endpoint", underlay + ":51820"));
            if (underlay6 != null) {
                argv.addAll(List.of("--endpoint", "[" + underlay6 + "]:51820"));
            }
        }
        if (bed.secure()) {
            if (!java.nio.file.Files.exists(bed.pkiDirectory().resolve(etcdUser() + ".password"))) {
                bed.etcdUser(etcdUser(), "node", name);
            }
            argv.addAll(bed.etcdOptions(etcdUser()));
        }
        argv.addAll(daemonOptions);
        if (join) {
            if (!java.nio.file.Files.exists(tokenFile())) {
                createToken();
            }
            argv.addAll(List.of("--join-token-file", tokenFile().toString()));
        }
        daemon = bed.spawn("daemon-" + name, in(namespace, argv.toArray(String[]::new)));
    }

    /** This host's etcd user in a secure testbed, with the role {@code ops/etcd-access.sh node} gives it. */
    public String etcdUser() {
        return "keymesh-node-" + name;
    }

    /** The join token file this host starts with (kept after the join, as an operator would). */
    public Path tokenFile() {
        return bed.dir.resolve(name + ".token");
    }

    /** Issues this host's join token now (otherwise its first start does). */
    public void createToken() {
        bed.keymesh("token", "create", "--node", name, "--ttl", "1h", "--out", tokenFile().toString());
    }

    /** The pid of the wireguard-go process behind this host's interface: a new pid means a new interface. */
    public String wireguardGoPid() {
        return run(in(namespace, "pgrep", "-f", "wireguard-go " + iface)).strip();
    }

    /** One series of a metric, exactly as named (with its labels), or -1 when it cannot be read. */
    public long metricSeries(String series) {
        for (String line : http("/metrics").split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        return -1;
    }

    /** SIGKILL: no goodbye; the interface (its own wireguard-go process) stays. */
    public void killDaemon() throws InterruptedException {
        daemon.destroyForcibly();
        daemon.waitFor();
    }

    /** The interface and its wireguard-go gone, and the socket with them, as after a reboot (/var/run is a tmpfs). */
    public void removeInterface() throws IOException, InterruptedException {
        for (String pid : Shell.result(in(namespace, "pgrep", "-f", "wireguard-go " + iface)).output().split("\\s+")) {
            if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        Wait.until(java.time.Duration.ofSeconds(30), iface + " is gone", bed::logs,
                () -> Shell.result(in(namespace, "ip", "link", "show", "dev", iface)).exit() != 0);
        java.nio.file.Files.deleteIfExists(Path.of("/var/run/wireguard", iface + ".sock"));
    }

    void destroyDaemon() {
        if (daemon != null) {
            daemon.destroyForcibly();
        }
    }

    /** SIGSTOP: the daemon freezes where it is (no more steps of a rotation) until {@link #resumeDaemon()} or a kill. */
    public void pauseDaemon() {
        run("kill", "-STOP", Long.toString(daemon.pid()));
    }

    public void resumeDaemon() {
        run("kill", "-CONT", Long.toString(daemon.pid()));
    }

    /**
     * Cuts this host off from {@code address} as a network partition does: every packet to and from
     * it is dropped in this host's namespace (no reset, no error: a black hole), until {@link #heal()}.
     */
    public void cutOffFrom(String address) {
        run(in(namespace, "nft", "add table inet keymesh_cut"));
        run(in(namespace, "nft", "add chain inet keymesh_cut out { type filter hook output priority 0 ; policy accept ; }"));
        run(in(namespace, "nft", "add chain inet keymesh_cut in { type filter hook input priority 0 ; policy accept ; }"));
        run(in(namespace, "nft", "add rule inet keymesh_cut out ip daddr " + address + " drop"));
        run(in(namespace, "nft", "add rule inet keymesh_cut in ip saddr " + address + " drop"));
    }

    /** Ends {@link #cutOffFrom}. */
    public void heal() {
        run(in(namespace, "nft", "delete table inet keymesh_cut"));
    }

    /** The host's state directory (keys, mesh-state.json). */
    public Path stateDirectory() {
        return stateDir();
    }

    /** Waits for the daemon to exit on its own and returns its exit status. */
    public int awaitDaemonExit(java.time.Duration timeout) throws InterruptedException {
        if (!daemon.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + "'s daemon still runs after " + timeout.toSeconds() + " s" + bed.logs());
        }
        return daemon.exitValue();
    }

    public String daemonLog() throws IOException {
        return java.nio.file.Files.readString(bed.dir.resolve("daemon-" + name + ".log"));
    }

    /** Gives this (not yet started) host another host's identity key: a re-imaged host reusing an identity. */
    public void takeIdentityOf(Host other) {
        KeyFiles.writeSecret(stateDir().resolve("identity.key"), KeyFiles.readSecret(other.stateDir().resolve("identity.key")), false);
        KeyFiles.writeSecret(stateDir().resolve("wireguard.key"), WireGuardPrivateKey.generate().toBase64Secret(), false);
    }

    Path stateDir() {
        return bed.dir.resolve("state-" + name);
    }

    public String publicKey() {
        return WireGuardPrivateKey.parse(KeyFiles.readSecret(stateDir().resolve("wireguard.key"))).publicKey().base64();
    }

    public String http(String path) {
        return Testbed.curl(namespace, "http://127.0.0.1:" + DAEMON_HTTP_PORT + path);
    }

    public boolean ready() {
        return readyz().startsWith("ready");
    }

    /** The daemon's /readyz answer: "ready", or "not ready: why". */
    public String readyz() {
        return Testbed.curlAnyStatus(namespace, "http://127.0.0.1:" + DAEMON_HTTP_PORT + "/readyz");
    }

    /** The sum of a metric family's series on this host's daemon, or -1 when it cannot be read. */
    public long metric(String family) {
        String text = http("/metrics");
        if (text.isEmpty()) {
            return -1;
        }
        long sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(family + " ") || line.startsWith(family + "{")) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** The peers' public keys as {@code wg} shows them. */
    public List<String> wgPeers() {
        return run(in(namespace, "wg", "show", iface, "peers")).lines().filter(l -> !l.isBlank()).sorted().toList();
    }

    /** {@code wg show <if> dump} without the volatile columns (handshake, transfer): what the device is configured with. */
    public List<String> wgConfiguration() {
        List<String> rows = new ArrayList<>();
        for (String line : run(in(namespace, "wg", "show", iface, "dump")).split("\n")) {
            String[] f = line.split("\t");
            if (f.length >= 8) {
                rows.add(f[0] + " " + f[3] + " " + f[7] + (f[2].equals("(none)") ? "" : " " + f[2]));
            } else if (f.length >= 3) {
                rows.add("device " + f[1] + " " + f[2]);
            }
        }
        return rows.stream().sorted().toList();
    }

    /** The interface as {@code ip -j address show} describes it. */
    public JsonNode link() throws IOException {
        return JSON.readTree(run(in(namespace, "ip", "-j", "address", "show", "dev", iface))).get(0);
    }

    /** This host's overlay address, as its interface carries it. */
    public String overlayAddress() throws IOException {
        for (JsonNode address : link().path("addr_info")) {
            if ("inet".equals(address.path("family").asText())) {
                return address.path("local").asText();
            }
        }
        throw new IOException(iface + " has no IPv4 address yet");
    }

    /** Pings {@code address} from this host; returns ping's summary (throws when none came back). */
    public String ping(String address, int count, String... options) {
        List<String> argv = new ArrayList<>(List.of("ping", "-n", "-q", "-c", Integer.toString(count), "-W", "2"));
        argv.addAll(List.of(options));
        argv.add(address);
        return run(in(namespace, argv.toArray(String[]::new)));
    }

    @Override
    public String toString() {
        return name;
    }
}
