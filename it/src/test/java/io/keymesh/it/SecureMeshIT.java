package io.keymesh.it;

import static io.keymesh.it.testbed.Shell.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Shell;
import io.keymesh.it.testbed.Testbed;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The whole system against a secure etcd: TLS with client certificates, etcd authentication with
 * short-lived tokens, and every program as its own etcd user with the least role
 * ({@code ops/etcd-access.sh}). Then the secrets-hygiene check: no private key, join token secret,
 * etcd password or TLS key appears in etcd (its data files, so the history too), in any log, or in
 * any process's command line or environment.
 */
class SecureMeshIT {
    private static final Duration WAIT = Duration.ofSeconds(120);

    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void meshOverTlsWithLeastPrivilegeUsersAndNoSecretAnywhere() throws Exception {
        bed = Testbed.start(2, true);
        List<Host> hosts = bed.joinHosts(WAIT, "n1", "n2", "n3");
        bed.awaitFullMesh(hosts, WAIT);
        Host n1 = hosts.get(0);
        Map<String, byte[]> secrets = new LinkedHashMap<>();
        collectSecrets(secrets);

        // Well past the token lifetime: every program must have renewed its token to go on.
        Thread.sleep(3_000L * Testbed.AUTH_TOKEN_TTL_SECONDS);
        String before = n1.publicKey();
        bed.keymesh("rotate", "n1");
        bed.awaitFullMesh(hosts, WAIT);
        assertNotEquals(before, n1.publicKey(), "n1's key was rotated");
        collectSecrets(secrets); // n1's new WireGuard key too; the old one stays on the list

        checkLeastPrivilege(n1);
        List<String> outputs = checkCleanErrors();

        List<String> leaks = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            scan("output of keymesh run " + i, outputs.get(i).getBytes(StandardCharsets.UTF_8), secrets, leaks);
        }
        scanEtcdData(secrets, leaks);
        scanLogs(secrets, leaks);
        scanProcesses(secrets, leaks);
        assertTrue(leaks.isEmpty(), "secrets leaked:\n" + String.join("\n", leaks));
        // Every kind was looked for: 3 identities, 4 WireGuard keys (n1's before and after), 3 token secrets, the
        // authority key, 7 TLS keys (root, server, authority, operator, 3 nodes) and 5 etcd passwords.
        Map<String, Integer> expected = Map.of("identity.key", 3, "wireguard.key", 4, "join token secret", 3,
                "authority signing key", 1, "TLS key ", 7);
        expected.forEach((kind, count) -> assertEquals((long) count, secrets.keySet().stream()
                .filter(k -> k.contains(kind) && k.endsWith("(hex)")).count(), "secrets of kind " + kind + ": " + secrets.keySet()));
        assertEquals(5, secrets.keySet().stream().filter(k -> k.startsWith("etcd password")).count(), "every etcd password");
    }

    /** A node's certificate (etcd takes the user from it) opens exactly the keys of that node's role. */
    private void checkLeastPrivilege(Host n1) {
        Path pki = bed.pkiDirectory();
        List<String> asN1 = etcdctlAs(n1.etcdUser());
        assertAllowed(asN1, "get", "/keymesh/v1/nodes/", "--prefix", "--keys-only");
        assertAllowed(asN1, "get", "/keymesh/v1/config");
        assertAllowed(asN1, "get", "/keymesh/v1/status/n1");
        assertDenied(asN1, "put", "/keymesh/v1/nodes/n1", "forged");
        assertDenied(asN1, "put", "/keymesh/v1/config", "forged");
        assertDenied(asN1, "put", "/keymesh/v1/status/n2", "forged");
        assertDenied(asN1, "put", "/keymesh/v1/enroll/n2", "forged");
        assertDenied(asN1, "get", "/keymesh/v1/tokens/", "--prefix");
        assertDenied(asN1, "get", "/keymesh/v1/enroll-results/n2");
        assertDenied(asN1, "get", "/keymesh/v1/audit/", "--prefix");
        assertDenied(asN1, "del", "/keymesh/v1/nodes/n2");

        List<String> asOperator = etcdctlAs("keymesh-operator");
        assertAllowed(asOperator, "get", "/keymesh/v1/", "--prefix", "--keys-only");
        assertDenied(asOperator, "put", "/keymesh/v1/nodes/n1", "forged");
        assertDenied(asOperator, "put", "/keymesh/v1/enroll/n1", "forged");

        Shell.Result noCertificate = Shell.result(in(bed.switchNamespace(), "env", "ETCDCTL_API=3",
                "ETCDCTL_CACERT=" + pki.resolve("ca.pem"), "etcdctl", "--endpoints", "https://" + Testbed.SWITCH_ADDRESS + ":2379",
                "--dial-timeout", "3s", "get", "/keymesh/v1/config"));
        assertNotEquals(0, noCertificate.exit(), "a client without a certificate is refused: " + noCertificate.output());
    }

    /** etcdctl logged in as {@code user} by its client certificate alone (etcd takes the user from the common name). */
    private List<String> etcdctlAs(String user) {
        Path pki = bed.pkiDirectory();
        return List.of("env", "ETCDCTL_API=3", "ETCDCTL_CACERT=" + pki.resolve("ca.pem"), "ETCDCTL_CERT=" + pki.resolve(user + ".pem"),
                "ETCDCTL_KEY=" + pki.resolve(user + "-key.pem"), "etcdctl", "--endpoints", "https://" + Testbed.SWITCH_ADDRESS + ":2379");
    }

    private void assertAllowed(List<String> etcdctl, String... args) {
        Shell.Result result = etcdctl(etcdctl, args);
        assertEquals(0, result.exit(), String.join(" ", args) + " is allowed: " + result.output());
    }

    private void assertDenied(List<String> etcdctl, String... args) {
        Shell.Result result = etcdctl(etcdctl, args);
        assertNotEquals(0, result.exit(), String.join(" ", args) + " is refused");
        assertTrue(result.output().contains("permission denied"), String.join(" ", args) + " is refused for permission: " + result.output());
    }

    private Shell.Result etcdctl(List<String> etcdctl, String... args) {
        List<String> argv = new ArrayList<>(etcdctl);
        argv.addAll(List.of(args));
        return Shell.result(in(bed.switchNamespace(), argv.toArray(String[]::new)));
    }

    /** Misconfigured TLS or credentials: one line saying what is wrong, no stack trace, nothing changed. */
    private List<String> checkCleanErrors() throws IOException {
        List<String> outputs = new ArrayList<>();
        Path pki = bed.pkiDirectory();
        String https = "https://" + Testbed.SWITCH_ADDRESS + ":2379";
        Path wrongPassword = bed.dir().resolve("wrong.password");
        io.keymesh.schema.keyfile.KeyFiles.writeSecret(wrongPassword, "not-the-password", true);
        Path openKey = bed.dir().resolve("open-key.pem");
        Files.copy(pki.resolve("keymesh-operator-key.pem"), openKey);
        Files.setPosixFilePermissions(openKey, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Map<String, List<String>> cases = new LinkedHashMap<>();
        cases.put("wrong password", List.of("--etcd-ca-file", pki.resolve("ca.pem").toString(), "--etcd-cert-file",
                pki.resolve("keymesh-operator.pem").toString(), "--etcd-key-file", pki.resolve("keymesh-operator-key.pem").toString(),
                "--etcd-user", "keymesh-operator", "--etcd-password-file", wrongPassword.toString()));
        cases.put("no client certificate", List.of("--etcd-ca-file", pki.resolve("ca.pem").toString()));
        cases.put("server not trusted", List.of("--etcd-cert-file", pki.resolve("keymesh-operator.pem").toString(), "--etcd-key-file",
                pki.resolve("keymesh-operator-key.pem").toString()));
        cases.put("key readable by others", List.of("--etcd-ca-file", pki.resolve("ca.pem").toString(), "--etcd-cert-file",
                pki.resolve("keymesh-operator.pem").toString(), "--etcd-key-file", openKey.toString()));
        String tokensBefore = bed.etcdctl("get", "/keymesh/v1/tokens/", "--prefix", "--keys-only");
        for (Map.Entry<String, List<String>> c : cases.entrySet()) {
            List<String> argv = new ArrayList<>(List.of(Testbed.BIN.resolve("keymesh").toString(), "--endpoints", https, "--mesh", "testbed"));
            argv.addAll(c.getValue());
            argv.addAll(List.of("token", "create", "--node", "n9"));
            Shell.Result result = Shell.result(in(bed.switchNamespace(), argv.toArray(String[]::new)));
            outputs.add(result.output());
            assertNotEquals(0, result.exit(), c.getKey() + ": fails");
            String out = result.output().strip();
            assertTrue(out.startsWith("keymesh: ") && !out.contains("\tat ") && !out.contains("Exception"),
                    c.getKey() + ": one clean line, got: " + out);
            if (c.getKey().equals("server not trusted")) {
                assertTrue(out.contains("TLS handshake"), "names the likely cause: " + out);
            }
        }
        assertEquals(tokensBefore, bed.etcdctl("get", "/keymesh/v1/tokens/", "--prefix", "--keys-only"), "no token was created");
        // The operator's certificate alone is enough: etcd takes the user from its common name.
        List<String> argv = new ArrayList<>(List.of(Testbed.BIN.resolve("keymesh").toString(), "--endpoints", https, "--mesh", "testbed",
                "--etcd-ca-file", pki.resolve("ca.pem").toString(), "--etcd-cert-file", pki.resolve("keymesh-operator.pem").toString(),
                "--etcd-key-file", pki.resolve("keymesh-operator-key.pem").toString(), "token", "list"));
        Shell.Result certOnly = Shell.result(in(bed.switchNamespace(), argv.toArray(String[]::new)));
        outputs.add(certOnly.output());
        assertEquals(0, certOnly.exit(), "certificate-only authentication works: " + certOnly.output());
        return outputs;
    }

    /** Every secret of the run, in every form it could be written in (as is, base64, base64url, hex). */
    private void collectSecrets(Map<String, byte[]> secrets) throws IOException {
        add(secrets, "authority signing key", Files.readString(bed.dir().resolve("authority.key")).strip());
        for (Host h : bed.hosts()) {
            for (String file : List.of("identity.key", "wireguard.key", "wireguard.next.key")) {
                Path path = h.stateDirectory().resolve(file);
                if (Files.exists(path)) {
                    add(secrets, h + " " + file, Files.readString(path).strip());
                }
            }
            String token = Files.readString(h.tokenFile()).strip();
            add(secrets, h + " join token secret", token.substring(token.indexOf('.') + 1));
        }
        try (Stream<Path> files = Files.list(bed.pkiDirectory())) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (name.endsWith(".password")) {
                    secrets.put("etcd password " + name, Files.readString(file).strip().getBytes(StandardCharsets.US_ASCII));
                } else if (name.endsWith("-key.pem")) {
                    // The private scalar itself, in every form, whatever the PEM wrapping was.
                    Object pem = new org.bouncycastle.openssl.PEMParser(new java.io.StringReader(Files.readString(file))).readObject();
                    org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = pem instanceof org.bouncycastle.openssl.PEMKeyPair pair
                            ? pair.getPrivateKeyInfo() : (org.bouncycastle.asn1.pkcs.PrivateKeyInfo) pem;
                    byte[] scalar = org.bouncycastle.util.BigIntegers.asUnsignedByteArray(32,
                            org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey()).getKey());
                    add(secrets, "TLS key " + name, Base64.getEncoder().encodeToString(scalar));
                    // and the file as written, line by line (the first is the same header in every key of a kind)
                    List<String> body = Files.readAllLines(file).stream().filter(l -> !l.startsWith("-----")).toList();
                    for (int i = 1; i < body.size(); i++) {
                        if (body.get(i).length() >= 16) {
                            secrets.put("TLS key file " + name + " line " + i, body.get(i).getBytes(StandardCharsets.US_ASCII));
                        }
                    }
                }
            }
        }
    }

    private static void add(Map<String, byte[]> secrets, String what, String base64) {
        byte[] raw = base64.contains("-") || base64.contains("_") ? Base64.getUrlDecoder().decode(base64) : Base64.getDecoder().decode(base64);
        what = what + " " + HexFormat.of().formatHex(raw).substring(0, 6); // a rotated key is a second secret, not a replacement
        secrets.put(what, base64.getBytes(StandardCharsets.US_ASCII));
        secrets.put(what + " (base64)", Base64.getEncoder().withoutPadding().encodeToString(raw).getBytes(StandardCharsets.US_ASCII));
        secrets.put(what + " (base64url)", Base64.getUrlEncoder().withoutPadding().encodeToString(raw).getBytes(StandardCharsets.US_ASCII));
        secrets.put(what + " (hex)", HexFormat.of().formatHex(raw).getBytes(StandardCharsets.US_ASCII));
        secrets.put(what + " (raw)", raw);
    }

    /**
     * etcd's own files: the bbolt database and the write-ahead log hold every revision not yet
     * compacted. etcd before 3.5 hashes a user's password only after raft, so the plain password
     * an operator sets with {@code etcdctl user add} sits in every member's write-ahead log
     * (docs/etcd-security.md says so and offers certificate-only users); keymesh never writes
     * one, so there passwords are looked for everywhere but etcd's own files.
     */
    private void scanEtcdData(Map<String, byte[]> secrets, List<String> leaks) throws IOException {
        String version = Shell.run("etcd", "--version").lines().filter(l -> l.startsWith("etcd Version:")).findFirst().orElseThrow();
        boolean passwordsInRaftLog = version.matches("etcd Version: 3\\.[0-4]\\..*");
        Map<String, byte[]> lookFor = new LinkedHashMap<>(secrets);
        if (passwordsInRaftLog) {
            lookFor.keySet().removeIf(name -> name.startsWith("etcd password"));
        }
        int scanned = 0;
        for (int member = 0; member < 3; member++) {
            try (Stream<Path> files = Files.walk(bed.dir().resolve("etcd-e" + member))) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    scan("etcd file " + bed.dir().relativize(file), Files.readAllBytes(file), lookFor, leaks);
                    scanned++;
                }
            }
        }
        assertTrue(scanned >= 6, "etcd's data files were found");
        // And what a reader of etcd sees: every key and value, as root.
        String all = bed.etcdctl("get", "", "--from-key");
        assertTrue(all.contains("/keymesh/v1/nodes/n1"), "the dump holds the mesh");
        scan("etcdctl get --from-key", all.getBytes(StandardCharsets.UTF_8), secrets, leaks);
    }

    private void scanLogs(Map<String, byte[]> secrets, List<String> leaks) throws IOException {
        int scanned = 0;
        try (Stream<Path> files = Files.list(bed.dir())) {
            for (Path log : files.filter(p -> p.toString().endsWith(".log")).toList()) {
                scan("log " + log.getFileName(), Files.readAllBytes(log), secrets, leaks);
                scanned++;
            }
        }
        assertTrue(scanned >= 3 + 2 + 3, "the logs of etcd, the authorities and the daemons were scanned");
    }

    /** The command line of every process on the machine, and the environment of every process of this run. */
    private void scanProcesses(Map<String, byte[]> secrets, List<String> leaks) throws IOException {
        int daemons = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    byte[] cmdline = Files.readAllBytes(proc.resolve("cmdline"));
                    String text = new String(cmdline, StandardCharsets.UTF_8);
                    scan("command line of " + proc.getFileName() + " (" + text.replace('\0', ' ').strip() + ")", cmdline, secrets, leaks);
                    if (text.contains("io.keymesh.")) {
                        scan("environment of " + proc.getFileName(), Files.readAllBytes(proc.resolve("environ")), secrets, leaks);
                        daemons += text.contains("DaemonMain") ? 1 : 0;
                    }
                } catch (IOException e) {
                    // exited while we looked
                }
            }
        }
        assertEquals(3, daemons, "the three daemons' processes were scanned");
    }

    private static void scan(String where, byte[] data, Map<String, byte[]> secrets, List<String> leaks) {
        for (Map.Entry<String, byte[]> secret : secrets.entrySet()) {
            if (secret.getValue().length >= 16 && indexOf(data, secret.getValue()) >= 0) {
                leaks.add(secret.getKey() + " in " + where);
            }
        }
    }

    private static int indexOf(byte[] data, byte[] pattern) {
        outer:
        for (int i = 0; i <= data.length - pattern.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
