package io.keymesh.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.keymesh.authority.AuthoritySettings;
import io.keymesh.authority.KeyAuthority;
import io.keymesh.daemon.keys.KeyStore;
import io.keymesh.daemon.keys.NodeKeys;
import io.keymesh.daemon.reconcile.DeviceOverrides;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.UapiDevice;
import io.keymesh.daemon.wireguard.WireGuardGoHost;
import io.keymesh.runtime.etcd.PagedRead;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.testing.Joiner;
import io.keymesh.testing.etcd.EtcdExtension;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node daemons against a real 3-member etcd, a real key authority and real wireguard-go
 * interfaces, each in a network namespace of its own. The daemons run in this JVM and reach
 * their interfaces through the control socket; the interfaces are made by the test (the daemon
 * adopts them), since the daemon's own interface management runs {@code ip} in its own
 * namespace.
 */
class NodeDaemonIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.cluster(3);

    private static final String MESH = "it-mesh";
    /** Generous: after etcd restarts, gRPC's reconnect backoff on a busy 2-core machine takes its time. */
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private final Ed25519PrivateKey authorityKey = Ed25519PrivateKey.generate();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private KeyLayout layout;
    private Joiner joiner;

    /** One host: its namespace and interface, its state directory, and (while running) its daemon. */
    private final class Host {
        final String node;
        final WireGuardGoHost wg;
        final Path state;
        final List<Endpoint> advertised;
        NodeDaemon daemon;
        Metrics metrics;
        Client client;

        Host(String node, List<Endpoint> advertised) throws Exception {
            this.node = node;
            this.wg = WireGuardGoHost.start();
            toClose.add(wg);
            this.state = dir.resolve(node);
            this.advertised = advertised;
        }

        /** Starts the daemon, joining with a fresh token if {@code join}. */
        NodeDaemon start(boolean join, List<URI> endpoints, String http) throws Exception {
            Path tokenFile = null;
            if (join) {
                JoinTokenSecret token = joiner.issueToken(1, node);
                tokenFile = dir.resolve(node + ".token");
                KeyFiles.writeSecret(tokenFile, token.reveal(), true);
            }
            DaemonSettings settings = new DaemonSettings(io.keymesh.runtime.etcd.EtcdAccess.plain(endpoints), layout, MESH, node, List.of(authorityKey.publicKey()), state,
                    wg.iface, DaemonSettings.Backend.UAPI, io.keymesh.daemon.link.LinkManager.Implementation.WIREGUARD_GO, advertised,
                    DeviceOverrides.NONE, tokenFile, http == null ? null : io.keymesh.runtime.Addresses.listen(http), null);
            NodeKeys keys = new KeyStore(state).loadOrCreate();
            client = Client.builder().endpoints(endpoints.toArray(URI[]::new)).maxInboundMessageSize(PagedRead.MAX_MESSAGE_BYTES).build();
            metrics = new Metrics();
            daemon = new NodeDaemon(settings, client, keys, new UapiDevice(wg.iface), null, metrics, "test");
            daemon.start();
            return daemon;
        }

        void stop() {
            daemon.close();
            client.close();
            daemon = null;
        }

        DeviceState device() throws Exception {
            return new UapiDevice(wg.iface).read();
        }

        WireGuardPublicKey publicKey() {
            return new KeyStore(state).loadOrCreate().wireGuard().current().publicKey();
        }

        long counter(String family) {
            long sum = 0;
            for (String line : metrics.render().split("\n")) {
                if (line.startsWith(family + " ") || line.startsWith(family + "{")) {
                    sum += Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return sum;
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        Exception first = null;
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close(); // every namespace and process, even after one close failed
            } catch (Exception e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void authority() {
        layout = new KeyLayout(etcd.uniquePrefix("daemon"));
        joiner = new Joiner(etcd.client(), layout, MESH);
        Path keyFile = dir.resolve("authority.key");
        KeyFiles.writeSecret(keyFile, authorityKey.toBase64Secret(), false);
        AuthoritySettings settings = new AuthoritySettings(io.keymesh.runtime.etcd.EtcdAccess.plain(etcd.cluster().clientEndpoints()), layout, MESH, keyFile, List.of(),
                List.of(IpPrefix.parse("198.18.0.0/16")), 51820, 25, Duration.ofSeconds(2), "authority", null, null);
        Client client = etcd.clientBuilder().maxInboundMessageSize(PagedRead.MAX_MESSAGE_BYTES).build();
        toClose.add(client);
        KeyAuthority authority = new KeyAuthority(client, settings, authorityKey, Clock.systemUTC(), new Metrics());
        toClose.add(authority);
        authority.start();
    }

    private Host host(String node, String endpoint) throws Exception {
        Host host = new Host(node, endpoint == null ? List.of() : List.of(Endpoint.parse(endpoint)));
        toClose.add(() -> {
            if (host.daemon != null) {
                host.stop();
            }
        });
        return host;
    }

    private static void await(BooleanSupplierWithException condition, String what) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.get()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting until " + what);
            }
            Thread.sleep(25);
        }
    }

    @FunctionalInterface
    private interface BooleanSupplierWithException {
        boolean get() throws Exception;
    }

    private byte[] stored(String key) throws Exception {
        List<KeyValue> kvs = etcd.client().getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
        return kvs.get(0).getValue().getBytes();
    }

    private static void put(String key, byte[] value) throws Exception {
        etcd.client().getKVClient().put(bytes(key), ByteSequence.from(value)).get(10, TimeUnit.SECONDS);
    }

    private static ByteSequence bytes(String key) {
        return ByteSequence.from(key, StandardCharsets.UTF_8);
    }

    /** Two hosts, one with an endpoint and one behind NAT, joined and peered. */
    private Host[] joinedPair(List<URI> endpointsOfA) throws Exception {
        authority();
        Host a = host("node-a", "192.0.2.11:51820");
        Host b = host("node-b", null);
        a.start(true, endpointsOfA, "127.0.0.1:0");
        b.start(true, etcd.cluster().clientEndpoints(), null);
        await(() -> a.device().peers().containsKey(b.publicKey()) && b.device().peers().containsKey(a.publicKey()),
                "each host has the other as a peer");
        await(() -> a.daemon.isReady() && b.daemon.isReady(), "both daemons are ready");
        return new Host[] {a, b};
    }

    @Test
    void hostsJoinAndPeerAndANodeBehindNatIsConfiguredWithoutAnEndpoint() throws Exception {
        Host[] pair = joinedPair(etcd.cluster().clientEndpoints());
        Host a = pair[0];
        Host b = pair[1];

        PeerConfig bOnA = a.device().peers().get(b.publicKey()).config();
        assertNull(bOnA.endpoint(), "b advertises no endpoint: a waits to learn it");
        assertEquals(0, bOnA.keepaliveSeconds());
        assertEquals(1, bOnA.allowedIps().size());
        PeerConfig aOnB = b.device().peers().get(a.publicKey()).config();
        assertEquals(Endpoint.parse("192.0.2.11:51820"), aOnB.endpoint());
        assertEquals(25, aOnB.keepaliveSeconds(), "b is behind NAT: it keeps the path open");
        assertEquals(a.publicKey(), a.device().publicKey(), "a's interface carries a's persisted key");

        HttpClient http = HttpClient.newHttpClient();
        InetSocketAddress address = a.daemon.httpAddress();
        String base = "http://127.0.0.1:" + address.getPort();
        assertEquals(200, http.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        String peers = http.send(HttpRequest.newBuilder(URI.create(base + "/peers")).build(), HttpResponse.BodyHandlers.ofString()).body();
        var tree = Json.mapper().readTree(peers).get("peers");
        assertEquals(1, tree.size(), peers);
        assertEquals("node-b", tree.get(0).get("node").asText());
        assertEquals(b.publicKey().base64(), tree.get(0).get("publicKey").asText());
        assertTrue(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body()
                .contains("keymesh_daemon_applied_revision "));

        await(() -> etcd.client().getKVClient().get(bytes(layout.status("node-a"))).get(10, TimeUnit.SECONDS).getCount() == 1,
                "a reports its status");
        var status = Json.mapper().readTree(stored(layout.status("node-a")));
        assertEquals(1, status.get("peers").asInt());
        assertTrue(status.get("appliedRevision").asLong() > 0);
    }

    @Test
    void forgedReplayedMisplacedAndMalformedRecordsAreRefusedAndNothingIsApplied() throws Exception {
        Host[] pair = joinedPair(etcd.cluster().clientEndpoints());
        Host a = pair[0];
        Host b = pair[1];
        WireGuardPublicKey manual = WireGuardPrivateKey.generate().publicKey();
        a.wg.wg("set", a.wg.iface, "peer", manual.base64(), "allowed-ips", "203.0.113.0/24");

        byte[] bEpoch1 = stored(layout.node("node-b"));
        NodeRecord bRecord = AuthoritySignature.verify(bEpoch1, NodeRecord.class,
                io.keymesh.schema.crypto.TrustedKeys.of(authorityKey.publicKey())).value();
        // The authority's key signs b at epoch 2 (as a rotation would): the newest record a daemon has seen.
        NodeRecord bEpoch2 = new NodeRecord(bRecord.mesh(), bRecord.node(), 2, 2, bRecord.state(), bRecord.identityKey(),
                bRecord.wgPublicKey(), bRecord.endpoints(), bRecord.addresses(), bRecord.allowedIps(), bRecord.keyIssuedAt(),
                bRecord.issuedAt(), null);
        put(layout.node("node-b"), AuthoritySignature.sign(bEpoch2, authorityKey));
        await(() -> a.daemon.worker().applied().records().get("node-b").epoch() == 2, "a has b at epoch 2");
        Map<WireGuardPublicKey, PeerConfig> before = a.device().configs();
        long changesBefore = a.counter("keymesh_daemon_peer_changes_total");

        WireGuardPublicKey attacker = WireGuardPrivateKey.generate().publicKey();
        NodeRecord hijacked = new NodeRecord(MESH, "node-b", 9, 9, bRecord.state(), bRecord.identityKey(), attacker,
                List.of(Endpoint.parse("203.0.113.66:51820")), bRecord.addresses(), bRecord.allowedIps(), bRecord.keyIssuedAt(),
                bRecord.issuedAt(), null);
        put(layout.node("node-b"), AuthoritySignature.sign(hijacked, Ed25519PrivateKey.generate())); // forged: unknown key
        put(layout.node("node-b"), bEpoch1);                                                        // replayed: older epoch
        put(layout.node("node-x"), AuthoritySignature.sign(bEpoch2, authorityKey));                 // valid, at another node's key
        put(layout.node("node-b"), "{\"mesh\": \"it-mesh\", ".getBytes(StandardCharsets.UTF_8));     // malformed JSON

        await(() -> a.counter("keymesh_daemon_refused_records_total") >= 4 && b.counter("keymesh_daemon_refused_records_total") >= 4,
                "both daemons refused all four");
        String metrics = a.metrics.render();
        for (String reason : List.of("unknown-signing-key", "epoch-rollback", "wrong-key-path", "malformed")) {
            assertTrue(metrics.contains("keymesh_daemon_refused_records_total{reason=\"" + reason + "\"} 1"), reason + "\n" + metrics);
        }
        await(() -> a.daemon.isReady(), "a settles");
        assertEquals(before, a.device().configs(), "nothing applied");
        assertEquals(changesBefore, a.counter("keymesh_daemon_peer_changes_total"));
        assertTrue(a.device().peers().containsKey(manual), "the hand-added peer is still there");
        assertEquals(2, a.daemon.worker().applied().records().get("node-b").epoch());
        assertEquals(bRecord.wgPublicKey(), b.publicKey());

        // A restart reads the whole device back and diffs every peer on it, the hand-added one included.
        long lastWrite = etcd.currentRevision();
        a.stop();
        a.start(false, etcd.cluster().clientEndpoints(), null);
        await(() -> a.metrics.render().contains("keymesh_daemon_etcd_connected 1") && a.daemon.isReady()
                && a.daemon.worker().applied().revision() >= lastWrite, "a is back and caught up");
        assertTrue(a.device().peers().containsKey(manual), "the hand-added peer survives a full read-back");
        assertEquals(before, a.device().configs());
    }

    @Test
    void etcdGoneLeavesTheInterfaceAsItIsAndARestartFromStateMutatesNothing() throws Exception {
        etcd.requireMemberFaults(3);
        Host[] pair = joinedPair(etcd.cluster().clientEndpoints());
        Host a = pair[0];
        Host b = pair[1];
        Map<WireGuardPublicKey, PeerConfig> before = a.device().configs();
        for (int i = 0; i < 3; i++) {
            etcd.cluster().stopMember(i);
        }
        try {
            await(() -> a.metrics.render().contains("keymesh_daemon_etcd_connected 0"), "a notices etcd is gone");
            assertEquals(before, a.device().configs(), "etcd gone: the interface is untouched");

            a.stop();
            a.start(false, etcd.cluster().clientEndpoints(), null);
            await(() -> a.daemon.isReady(), "a is back from its state file, etcd still down");
            assertEquals(before, a.device().configs());
            assertEquals(0, a.counter("keymesh_daemon_peer_changes_total"), "no peer touched at restart");
            assertEquals(0, a.counter("keymesh_daemon_device_settings_total"), "key and port not set again");
        } finally {
            for (int i = 0; i < 3; i++) {
                etcd.cluster().startMember(i);
            }
        }
        await(() -> a.metrics.render().contains("keymesh_daemon_etcd_connected 1"), "a reads etcd again");
        await(() -> a.daemon.isReady(), "a settles");
        assertEquals(before, a.device().configs());
        assertEquals(0, a.counter("keymesh_daemon_peer_changes_total"), "nothing changed in etcd: nothing changes on the device");
        assertNotNull(b.daemon);
    }

    @Test
    void aCompactionWhileDisconnectedConvergesOnReconnect() throws Exception {
        etcd.requireMemberFaults(3);
        List<URI> memberZero = List.of(etcd.cluster().clientEndpoints().get(0));
        Host[] pair = joinedPair(memberZero);
        Host a = pair[0];
        Host b = pair[1];
        etcd.cluster().stopMember(0); // a's only etcd endpoint
        try {
            moveWhileDisconnected();
        } finally {
            etcd.cluster().startMember(0);
        }
        await(() -> Endpoint.parse("198.51.100.7:51820").equals(a.device().peers().get(b.publicKey()).config().endpoint()),
                "a has b's new endpoint after reconnecting past a compaction");
        await(() -> a.daemon.isReady(), "a settles");
    }

    /** Signs b anew with another endpoint, then compacts etcd past it. */
    private void moveWhileDisconnected() throws Exception {
        byte[] current = stored(layout.node("node-b"));
        NodeRecord r = AuthoritySignature.verify(current, NodeRecord.class,
                io.keymesh.schema.crypto.TrustedKeys.of(authorityKey.publicKey())).value();
        NodeRecord moved = new NodeRecord(r.mesh(), r.node(), r.epoch() + 1, r.epoch() + 1, r.state(), r.identityKey(), r.wgPublicKey(),
                List.of(Endpoint.parse("198.51.100.7:51820")), r.addresses(), r.allowedIps(), r.keyIssuedAt(), r.issuedAt(), null);
        put(layout.node("node-b"), AuthoritySignature.sign(moved, authorityKey));
        etcd.compact();
    }
}
