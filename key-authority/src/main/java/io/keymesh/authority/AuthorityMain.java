package io.keymesh.authority;

import io.keymesh.runtime.Cli;
import io.keymesh.runtime.TrustKeys;
import io.keymesh.runtime.MeshOptions;
import io.keymesh.runtime.Version;
import io.keymesh.runtime.Addresses;
import static io.keymesh.runtime.YamlConfig.first;

import io.etcd.jetcd.Client;
import io.keymesh.authority.server.AuthorityHttp;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import io.keymesh.runtime.etcd.EtcdClients;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code keymesh-authority}: one key authority replica, run by systemd. */
@Command(name = "keymesh-authority", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Runs one keymesh key authority replica: leader election on etcd, admission, signing, revocation.",
        sortOptions = false)
public final class AuthorityMain implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(AuthorityMain.class);

    @Mixin
    MeshOptions common = new MeshOptions();

    @Mixin
    io.keymesh.runtime.WatchOptions watch = new io.keymesh.runtime.WatchOptions();

    @Mixin
    io.keymesh.authority.retention.RetentionOptions retention = new io.keymesh.authority.retention.RetentionOptions();

    @Option(names = "--signing-key", paramLabel = "FILE", description = "the active Ed25519 signing key (from 'keymesh keygen authority')")
    Path signingKey;

    @Option(names = "--trust-key", paramLabel = "BASE64", description = "another authority public key whose records stay valid (repeatable)")
    List<String> trustKeys;

    @Option(names = "--overlay-cidr", paramLabel = "CIDR", description = "overlay address range, one IPv4 and/or one IPv6 (repeatable)")
    List<String> overlayCidrs;

    @Option(names = "--listen-port", description = "WireGuard UDP port for the mesh (default 51820)")
    Integer listenPort;

    @Option(names = "--lease-ttl", paramLabel = "SECONDS", description = "leader lease TTL in seconds (default 5)")
    Integer leaseTtlSeconds;

    @Option(names = "--candidate", description = "this replica's name in the election (default host name and process id)")
    String candidate;

    @Option(names = "--http", paramLabel = "HOST:PORT", description = "address for /healthz, /readyz, /metrics (default 127.0.0.1:9470; 'off' for none)")
    String http;

    @Option(names = "--max-key-age", paramLabel = "DURATION",
            description = "rotate WireGuard keys older than this (like 30d) without operator action (default: never)")
    String maxKeyAge;

    AuthoritySettings settings() throws java.net.UnknownHostException {
        ConfigFile file = ConfigFile.load(common.config);
        List<Ed25519PublicKey> trusted = TrustKeys.parse(first(trustKeys, file.trustedKeys(), List.<String>of()));
        String httpValue = first(http, file.http(), "127.0.0.1:9470");
        String signing = signingKey != null ? signingKey.toString() : file.signingKey();
        String maxKeyAgeValue = first(maxKeyAge, file.maxKeyAge(), null);
        return new AuthoritySettings(
                common.etcd(file.endpoints(), file),
                common.layout(file.prefix()),
                common.mesh(file.mesh()),
                signing == null ? null : Path.of(signing),
                trusted,
                first(overlayCidrs, file.overlayCidrs(), List.<String>of()).stream().map(IpPrefix::parse).toList(),
                first(listenPort, file.listenPort(), 51820),
                first(null, file.keepaliveSeconds(), 25),
                Duration.ofSeconds(first(leaseTtlSeconds, file.leaseTtlSeconds(), 5)),
                first(candidate, file.candidate(), InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid()),
                Addresses.listenOrOff(httpValue),
                maxKeyAgeValue == null ? null : new io.keymesh.authority.cli.Durations().convert(maxKeyAgeValue),
                watch.liveness(file),
                retention.policy(file));
    }

    @Override
    public Integer call() throws Exception {
        AuthoritySettings settings = settings();
        Ed25519PrivateKey key = Ed25519PrivateKey.parse(KeyFiles.readSecret(settings.signingKey()));
        Metrics metrics = new Metrics();
        Client client = EtcdClients.connect(settings.etcd());
        KeyAuthority authority = new KeyAuthority(client, settings, key, Clock.systemUTC(), metrics);
        AuthorityHttp server = settings.http() == null ? null : new AuthorityHttp(settings.http(), authority::notReadyBecause, metrics);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping: resigning leadership so a standby takes over");
            authority.close();
            if (server != null) {
                server.close();
            }
            client.close();
            stopped.countDown();
        }, "keymesh-shutdown"));
        LOG.info("keymesh-authority {} starting: candidate {}, mesh {}, prefix {}, etcd {}, signing key {}, retention {}{}",
                Version.current(), settings.candidate(), settings.mesh(), settings.layout().prefix(), settings.etcd().describe(),
                key.publicKey().keyId(), io.keymesh.authority.retention.RetentionOptions.describe(settings.retention()),
                server == null ? "" : ", http " + server.address());
        authority.start();
        stopped.await();
        return 0;
    }

    public static void main(String[] args) {
        System.exit(Cli.run(new AuthorityMain(), args));
    }
}
