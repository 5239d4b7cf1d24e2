package io.keymesh.authority;

import io.keymesh.runtime.Cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.etcd.jetcd.Client;
import io.keymesh.authority.cli.KeymeshCli;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.testing.Samples;
import io.keymesh.testing.Joiner;
import io.keymesh.testing.etcd.EtcdExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The keymesh CLI, run in this JVM against a real etcd and a running authority. */
class KeymeshCliIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.singleMember();

    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final Ed25519PrivateKey signingKey = Ed25519PrivateKey.generate();
    private KeyLayout layout;
    private Path config;
    private Client client;
    private KeyAuthority authority;

    /** What one CLI run printed and returned. */
    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void startAuthority() throws Exception {
        layout = new KeyLayout(etcd.uniquePrefix("cli"));
        Path key = dir.resolve("authority.key");
        KeyFiles.writeSecret(key, signingKey.toBase64Secret(), false);
        String endpoints = etcd.cluster().clientEndpoints().stream().map(URI::toString).collect(Collectors.joining(", "));
        config = dir.resolve("authority.yaml");
        Files.writeString(config, "endpoints: [" + endpoints + "]\nprefix: " + layout.prefix() + "\nmesh: " + Samples.MESH
                + "\nsigningKey: " + key + "\noverlayCidrs: [198.18.0.0/16]\n");
        client = etcd.newClient();
        AuthoritySettings settings = new AuthoritySettings(io.keymesh.runtime.etcd.EtcdAccess.plain(etcd.cluster().clientEndpoints()), layout, Samples.MESH, key, List.of(),
                List.of(IpPrefix.parse("198.18.0.0/16")), 51820, 25, Duration.ofSeconds(2), "cli-test", null, null);
        authority = new KeyAuthority(client, settings, signingKey, Clock.systemUTC(), new Metrics());
        authority.start();
    }

    @AfterEach
    void stop() {
        authority.close();
        client.close();
    }

    private Run keymesh(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(args));
        int exit = Cli.run(new KeymeshCli(), new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private Joiner.Host join(String node) throws Exception {
        Joiner joiner = new Joiner(client, layout, Samples.MESH);
        Joiner.Host host = joiner.host(node, joiner.issueToken(1, null));
        joiner.write(node, host.request()).get(10, TimeUnit.SECONDS);
        joiner.awaitResult(node, host.request(), WAIT);
        return host;
    }

    @Test
    void tokensAreCreatedShownOnceListedAndRevoked() {
        Run created = keymesh("token", "create", "--node", "web-1", "--uses", "2", "--ttl", "2h");
        assertEquals(0, created.exit(), created.err());
        String token = created.out().strip();
        JoinTokenSecret secret = JoinTokenSecret.parse(token);
        assertTrue(created.err().contains("for node web-1, 2 uses"), created.err());

        Run listed = keymesh("token", "list");
        assertTrue(listed.out().contains(secret.id()) && listed.out().contains("web-1") && listed.out().contains("usable"), listed.out());
        String secretPart = token.substring(token.indexOf('.') + 1);
        assertFalse(listed.out().contains(secretPart), "token list never shows the secret");
        assertFalse(keymesh("token", "list", "-o", "json").out().contains(secretPart));

        assertEquals(0, keymesh("token", "revoke", secret.id()).exit());
        Run again = keymesh("token", "revoke", secret.id());
        assertEquals(1, again.exit());
        assertEquals("keymesh: no join token " + secret.id() + "\n", again.err());
    }

    @Test
    void nodesListsAdmittedNodesAsATableAndAsJson() throws Exception {
        Joiner.Host host = join("db-1");
        Run table = keymesh("nodes");
        assertEquals(0, table.exit(), table.err());
        assertTrue(table.out().startsWith("NODE"), table.out());
        assertTrue(table.out().contains("db-1") && table.out().contains("198.18.0.1/32") && table.out().contains("yes"), table.out());
        assertTrue(table.out().startsWith("NODE  EPOCH  STATE   KEY AGE"), table.out());

        JsonNode json = Json.mapper().readTree(keymesh("nodes", "-o", "json").out());
        assertEquals(1, json.size());
        JsonNode node = json.get(0);
        assertEquals("db-1", node.get("node").asText());
        assertEquals(1, node.get("epoch").asLong());
        assertEquals("active", node.get("state").asText());
        assertEquals(host.wg().publicKey().base64(), node.get("wgPublicKey").asText());
        assertEquals("198.18.0.1/32", node.get("addresses").get(0).asText());
        long age = node.get("keyAgeSeconds").asLong();
        assertTrue(age >= 0 && age < 600, "a key admitted moments ago: " + age + " s");
    }

    @Test
    void revokeWaitsForTheAuthorityAndARepeatIsRefused() throws Exception {
        join("app-1");
        Run revoked = keymesh("revoke", "app-1");
        assertEquals(0, revoked.exit(), revoked.err());
        assertTrue(revoked.out().startsWith("revoked app-1"), revoked.out());
        Run again = keymesh("revoke", "app-1");
        assertEquals(1, again.exit());
        assertTrue(again.err().contains("keymesh: revoke of app-1 refused: already-revoked"), again.err());
        Run unknown = keymesh("revoke", "nobody");
        assertTrue(unknown.err().contains("unknown-node"), unknown.err());
    }

    @Test
    void verifyPassesACleanMeshAndNamesAForgedAndAReplayedRecordWrittenWithEtcdctl() throws Exception {
        join("db-1");
        byte[] epochOne = client.getKVClient().get(EtcdBytes.key(layout.node("db-1"))).get(10, TimeUnit.SECONDS)
                .getKvs().get(0).getValue().getBytes();
        join("db-2");
        Run clean = keymesh("verify");
        assertEquals(0, clean.exit(), clean.out() + clean.err());
        assertTrue(clean.out().contains("are good"), clean.out());

        assertEquals(0, keymesh("revoke", "db-1").exit());
        // A forged record (signed by an unknown key) and the replayed epoch-1 record of a revoked node.
        byte[] forged = AuthoritySignature.sign(Samples.nodeRecord("evil", 1, 66), Ed25519PrivateKey.generate());
        etcdctl("put", layout.node("evil"), new String(forged, StandardCharsets.UTF_8));
        etcdctl("put", layout.node("db-1"), new String(epochOne, StandardCharsets.UTF_8));

        Run bad = keymesh("verify");
        assertEquals(1, bad.exit(), bad.out());
        assertTrue(bad.out().contains("BAD " + layout.node("evil") + ": unknown-signing-key"), bad.out());
        assertTrue(bad.out().contains("BAD " + layout.node("db-1") + ": epoch-rollback"), bad.out());
        assertFalse(bad.out().contains("BAD " + layout.node("db-2")), bad.out());
    }

    @Test
    void usageErrorsAndMissingKeysGiveOneClearLine() {
        Run usage = keymesh("nodes", "--bogus");
        assertEquals(2, usage.exit());
        assertTrue(usage.err().startsWith("keymesh: Unknown option: '--bogus'"), usage.err());
        StringWriter err = new StringWriter();
        int exit = Cli.run(new KeymeshCli(), new PrintWriter(new StringWriter()), new PrintWriter(err, true),
                "--prefix", layout.prefix(), "--endpoints", etcd.cluster().clientEndpoints().get(0).toString(), "verify");
        assertEquals(1, exit);
        assertTrue(err.toString().startsWith("keymesh: no trusted authority key"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), "one line, no stack trace: " + err);
        Run existing = keymesh("keygen", "authority", "--out", dir.resolve("authority.key").toString());
        assertEquals(1, existing.exit());
        assertTrue(existing.err().contains("refusing to replace a key"), existing.err());
    }

    private static void etcdctl(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints",
                etcd.cluster().clientEndpoints().stream().map(URI::toString).collect(Collectors.joining(","))));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
    }
}
