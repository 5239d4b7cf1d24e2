package io.keymesh.daemon;

import static io.keymesh.runtime.YamlConfig.first;

import io.etcd.jetcd.Client;
import io.keymesh.daemon.keys.KeyStore;
import io.keymesh.daemon.keys.NodeKeys;
import io.keymesh.daemon.host.Exemption;
import io.keymesh.daemon.host.HostTraffic;
import io.keymesh.daemon.host.MssClamp;
import io.keymesh.daemon.link.LinkManager;
import io.keymesh.daemon.reconcile.DeviceOverrides;
import io.keymesh.daemon.wireguard.MemoryDevice;
import io.keymesh.daemon.wireguard.UapiDevice;
import io.keymesh.daemon.wireguard.WgToolDevice;
import io.keymesh.daemon.wireguard.WireGuardDevice;
import io.keymesh.runtime.Addresses;
import io.keymesh.runtime.Cli;
import io.keymesh.runtime.TrustKeys;
import io.keymesh.runtime.MeshOptions;
import io.keymesh.runtime.Version;
import io.keymesh.runtime.etcd.EtcdClients;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.record.Endpoint;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keymesh-daemon}: the per-host daemon, run by systemd. */
@Command(name = "keymesh-daemon", mixinStandardHelpOptions = true, versionProvider = Version.class, sortOptions = false,
        description = "Keeps this host's WireGuard peers in step with the verified keymesh records in etcd.")
public final class DaemonMain implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonMain.class);

    @Mixin
    MeshOptions common = new MeshOptions();

    @Mixin
    io.keymesh.runtime.WatchOptions watch = new io.keymesh.runtime.WatchOptions();

    @Option(names = "--node", description = "this host's node name (default the host name)")
    String node;

    @Option(names = "--trust-key", paramLabel = "BASE64", description = "a pinned authority public key (repeatable; at least one)")
    List<String> trustKeys;

    @Option(names = "--state-dir", paramLabel = "DIR", description = "keys and last verified records (default /var/lib/keymesh)")
    Path stateDir;

    @Option(names = "--interface", paramLabel = "NAME", description = "WireGuard interface (default km0)")
    String interfaceName;

    @Option(names = "--backend", description = "auto, wg, uapi or memory (default auto)")
    String backend;

    @Option(names = "--implementation", description = "how to create a missing interface: kernel or wireguard-go (default kernel)")
    String implementation;

    @Option(names = "--endpoint", paramLabel = "IP:PORT", description = "where peers reach this host (repeatable; none: behind NAT)")
    List<String> advertise;

    @Option(names = "--listen-port", description = "WireGuard UDP port (default: the mesh config's, else 51820)")
    Integer listenPort;

    @Option(names = "--keepalive", paramLabel = "SECONDS", description = "keepalive toward peers when behind NAT (default: the mesh config's, else 25)")
    Integer keepalive;

    @Option(names = "--mtu", description = "interface MTU (default: the mesh config's, else underlay MTU minus 80)")
    Integer mtu;

    @Option(names = "--join-token-file", paramLabel = "FILE", description = "0600 file with a join token (until admitted)")
    Path joinTokenFile;

    @Option(names = "--http", paramLabel = "HOST:PORT", description = "/healthz /readyz /metrics /peers (default 127.0.0.1:9471; 'off' for none)")
    String http;

    @Option(names = "--host-traffic", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "host mode: encrypt all traffic to the peers' underlay addresses (default false)")
    Boolean hostTraffic;

    @Option(names = "--host-traffic-exempt", paramLabel = "PROTO/PORTS[:in|out|both]",
            description = "traffic host mode leaves unencrypted (repeatable; replaces the defaults tcp/2379-2380 and tcp/6443)")
    List<String> hostTrafficExempt;

    @Option(names = "--firewall-mark", paramLabel = "MARK", description = "mark on WireGuard's own packets in host mode (default 0x10000000)")
    String firewallMark;

    @Option(names = "--route-table", paramLabel = "TABLE", description = "routing table for host mode's routes (default 19277)")
    Integer routeTable;

    @Option(names = "--rule-priority", paramLabel = "PRIORITY",
            description = "first of the three rule priorities host mode uses (default 32700)")
    Integer rulePriority;

    @Option(names = "--mss-clamp", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
            description = "in host mode, clamp the MSS of forwarded TCP through the tunnel; needs nft (default true)")
    Boolean mssClamp;

    @Option(names = "--print-identity", description = "print this host's identity public key (making its keys if it has none) "
            + "and exit; for 'keymesh reprovision' of a re-imaged host")
    boolean printIdentity;

    DaemonSettings settings() throws java.net.UnknownHostException {
        DaemonConfigFile file = DaemonConfigFile.load(common.config);
        List<Ed25519PublicKey> trusted = TrustKeys.parse(first(trustKeys, file.trustedKeys(), List.<String>of()));
        List<Endpoint> advertised = first(advertise, file.advertise(), List.<String>of()).stream().map(Endpoint::parse).toList();
        String httpValue = first(http, file.http(), "127.0.0.1:9471");
        String token = joinTokenFile != null ? joinTokenFile.toString() : file.joinTokenFile();
        return new DaemonSettings(
                common.etcd(file.endpoints(), file),
                common.layout(file.prefix()),
                common.mesh(file.mesh()),
                node != null ? node : file.node() != null ? file.node() : hostName(),
                trusted,
                Path.of(first(stateDir == null ? null : stateDir.toString(), file.stateDir(), "/var/lib/keymesh")),
                first(interfaceName, file.interfaceName(), "km0"),
                choice(DaemonSettings.Backend.class, "backend", first(backend, file.backend(), "auto")),
                choice(LinkManager.Implementation.class, "implementation", first(implementation, file.implementation(), "kernel")),
                advertised,
                new DeviceOverrides(first(listenPort, file.listenPort(), null), first(keepalive, file.keepaliveSeconds(), null),
                        first(mtu, file.mtu(), null)),
                token == null ? null : Path.of(token),
                Addresses.listenOrOff(httpValue),
                hostTraffic(file),
                watch.liveness(file));
    }

    private HostTraffic hostTraffic(DaemonConfigFile file) {
        List<String> exempt = first(hostTrafficExempt, file.hostTrafficExempt(), null);
        String mark = first(firewallMark, file.firewallMark(), null);
        long markValue;
        try {
            markValue = mark == null ? HostTraffic.DEFAULT_FIREWALL_MARK : Long.decode(mark);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("firewall mark '" + mark + "' is not a number (write 0x10000000 or 268435456)");
        }
        HostTraffic settings = new HostTraffic(first(hostTraffic, file.hostTraffic(), false),
                exempt == null ? Exemption.DEFAULTS : exempt.stream().map(Exemption::parse).toList(),
                markValue,
                first(routeTable, file.routeTable(), HostTraffic.DEFAULT_TABLE),
                first(rulePriority, file.rulePriority(), HostTraffic.DEFAULT_RULE_PRIORITY),
                first(mssClamp, file.mssClamp(), true));
        if (settings.enabled() && settings.mssClamp() && !MssClamp.available()) {
            throw new IllegalArgumentException("host traffic clamps the TCP MSS with nft, which is not installed: install nftables, "
                    + "or set mssClamp: false (--mss-clamp=false) if nothing on this host forwards traffic to the peers");
        }
        return settings;
    }

    /** The first label of the host name, lower case: asked only when no node name is configured. */
    private static String hostName() throws java.net.UnknownHostException {
        return InetAddress.getLocalHost().getHostName().toLowerCase(Locale.ROOT).split("\\.")[0];
    }

    static <E extends Enum<E>> E choice(Class<E> type, String what, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().replace('_', '-').equalsIgnoreCase(value)) {
                return constant;
            }
        }
        List<String> names = java.util.Arrays.stream(type.getEnumConstants()).map(c -> c.name().replace('_', '-').toLowerCase(Locale.ROOT)).toList();
        throw new IllegalArgumentException(what + " '" + value + "' is not one of " + names);
    }

    static WireGuardDevice device(DaemonSettings settings) {
        return switch (settings.backend()) {
            case MEMORY -> new MemoryDevice();
            case UAPI -> new UapiDevice(settings.interfaceName());
            case WG -> new WgToolDevice(settings.interfaceName());
            case AUTO -> settings.implementation() == LinkManager.Implementation.WIREGUARD_GO
                    || Files.exists(UapiDevice.SOCKET_DIRECTORY.resolve(settings.interfaceName() + ".sock"))
                    ? new UapiDevice(settings.interfaceName()) : new WgToolDevice(settings.interfaceName());
        };
    }

    @Override
    public Integer call() throws Exception {
        if (printIdentity) {
            DaemonConfigFile file = DaemonConfigFile.load(common.config);
            Path dir = Path.of(first(stateDir == null ? null : stateDir.toString(), file.stateDir(), "/var/lib/keymesh"));
            System.out.println(new KeyStore(dir).loadOrCreate().identity().publicKey().base64());
            return 0;
        }
        DaemonSettings settings = settings();
        KeyStore store = new KeyStore(settings.stateDirectory());
        if (!store.exists() && settings.joinTokenFile() == null) {
            throw new IllegalArgumentException("this host has no keys in " + settings.stateDirectory() + " yet, so it must join: "
                    + "start it with --join-token-file (create a token with 'keymesh token create')");
        }
        NodeKeys keys = store.loadOrCreate();
        WireGuardDevice device = device(settings);
        LinkManager links = settings.backend() == DaemonSettings.Backend.MEMORY ? null : new LinkManager(settings.implementation());
        Client client = EtcdClients.connect(settings.etcd());
        NodeDaemon daemon = new NodeDaemon(settings, client, keys, device, links, new Metrics(), Version.current());
        AtomicBoolean stopped = new AtomicBoolean();
        Runnable stop = () -> {
            synchronized (stopped) { // the shutdown hook waits for a stop already under way
                if (!stopped.getAndSet(true)) {
                    LOG.info("stopping; the WireGuard interface and its peers stay as they are");
                    daemon.close(); // before the client, so nothing complains of the calls the client's closing cuts off
                    client.close();
                }
            }
        };
        Runtime.getRuntime().addShutdownHook(new Thread(stop, "keymesh-shutdown"));
        LOG.info("keymesh-daemon {} starting: node {}, mesh {}, identity {}, WireGuard key {}, interface {} ({}), etcd {}{}",
                Version.current(), settings.node(), settings.mesh(), keys.identity().publicKey().keyId(), keys.wireGuard().current().publicKey(),
                settings.interfaceName(), device.getClass().getSimpleName(), settings.etcd().describe(),
                keys.generated() ? ", new keys generated" : "");
        daemon.start();
        if (daemon.httpAddress() != null) {
            LOG.info("serving /healthz /readyz /metrics /peers on http://{}:{}", daemon.httpAddress().getHostString(),
                    daemon.httpAddress().getPort());
        }
        Cli.Failure failure = daemon.failure().get();
        stop.run(); // first, so the line that says why is the last this daemon says
        throw failure; // exit 3 for a rejected join, which no restart can fix; 1 otherwise
    }

    public static void main(String[] args) {
        System.exit(Cli.run(new DaemonMain(), args));
    }
}
