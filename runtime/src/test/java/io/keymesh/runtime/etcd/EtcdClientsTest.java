package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.testing.tls.TestPki;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file handling of {@link EtcdClients}: what operators' PEM files look like, and one clear line for every bad one. */
class EtcdClientsTest {
    private static final List<URI> HTTPS = List.of(URI.create("https://192.0.2.1:2379"));

    @TempDir
    Path dir;

    @Test
    void readsSec1Pkcs8AndPkcs1KeysAndBuildsTheTlsContext() throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.CertFiles sec1 = pki.client("node-a", false);
        TestPki.CertFiles pkcs8 = pki.client("node-b", true);
        assertTrue(Files.readString(sec1.key()).startsWith("-----BEGIN EC PRIVATE KEY-----"));
        assertTrue(Files.readString(pkcs8.key()).startsWith("-----BEGIN PRIVATE KEY-----"));
        assertEquals("EC", EtcdClients.privateKey(sec1.key()).getAlgorithm());
        assertEquals("EC", EtcdClients.privateKey(pkcs8.key()).getAlgorithm());
        Path withParameters = dir.resolve("ecparam-key.pem"); // what 'openssl ecparam -genkey' writes
        KeyFiles.writeSecret(withParameters, "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"
                + Files.readString(sec1.key()).strip(), false);
        assertEquals(EtcdClients.privateKey(sec1.key()), EtcdClients.privateKey(withParameters));
        assertNotNull(EtcdClients.sslContext(new EtcdAccess(HTTPS, pki.caFile(), sec1.cert(), sec1.key(), null, null)));
        // PKCS#1, as older openssl and cfssl write RSA keys
        java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        byte[] pkcs1 = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(rsa.generateKeyPair().getPrivate().getEncoded())
                .parsePrivateKey().toASN1Primitive().getEncoded();
        Path rsaKey = dir.resolve("rsa-key.pem");
        KeyFiles.writeSecret(rsaKey, "-----BEGIN RSA PRIVATE KEY-----\n"
                + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pkcs1) + "\n-----END RSA PRIVATE KEY-----", false);
        assertEquals("RSA", EtcdClients.privateKey(rsaKey).getAlgorithm());
        assertNotNull(EtcdClients.sslContext(new EtcdAccess(HTTPS, null, null, null, null, null)));
    }

    @Test
    void refusesUnusableFilesWithOneLine() throws Exception {
        TestPki pki = TestPki.create(dir);
        TestPki.CertFiles client = pki.client("node-a", false);
        Path open = dir.resolve("open-key.pem");
        Files.copy(client.key(), open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        Path encrypted = dir.resolve("encrypted-key.pem");
        KeyFiles.writeSecret(encrypted, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhKbLLx2BqC9AICCAAw\n"
                + "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEHsCr1LvEOmHXk6nq7fbUm8EQD1l\n-----END ENCRYPTED PRIVATE KEY-----", false);
        Path notPem = dir.resolve("not.pem");
        KeyFiles.writeSecret(notPem, "hello", false);

        assertRefused("is readable by group or others", () -> EtcdClients.privateKey(open));
        assertRefused("does not exist", () -> EtcdClients.privateKey(dir.resolve("missing-key.pem")));
        assertRefused("is encrypted; keymesh reads unencrypted keys", () -> EtcdClients.privateKey(encrypted));
        Path certificateAsKey = dir.resolve("certificate-key.pem");
        KeyFiles.writeSecret(certificateAsKey, Files.readString(client.cert()).strip(), false);
        assertRefused("is not an unencrypted PEM private key (it holds a X509CertificateHolder)", () -> EtcdClients.privateKey(certificateAsKey));
        assertRefused("is not an unencrypted PEM private key", () -> EtcdClients.privateKey(notPem));
        assertRefused("etcd CA file " + dir.resolve("nope.pem") + " does not exist",
                () -> EtcdClients.certificates(dir.resolve("nope.pem"), "etcd CA file"));
        assertRefused("is not a PEM certificate", () -> EtcdClients.certificates(client.key(), "etcd CA file"));
        assertRefused("etcd password file", () -> EtcdClients.readPassword(open));
    }

    private static void assertRefused(String message, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(message), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }
}
