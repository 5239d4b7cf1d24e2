package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class EtcdAccessTest {
    private static final List<URI> HTTPS = List.of(URI.create("https://192.0.2.1:2379"), URI.create("https://192.0.2.2:2379"));
    private static final List<URI> HTTP = List.of(URI.create("http://192.0.2.1:2379"));
    private static final Path CA = Path.of("/etc/keymesh/etcd/ca.pem");
    private static final Path CERT = Path.of("/etc/keymesh/etcd/node.pem");
    private static final Path KEY = Path.of("/etc/keymesh/etcd/node-key.pem");
    private static final Path PASSWORD = Path.of("/etc/keymesh/etcd/password");

    @Test
    void acceptsEveryWholeCombination() {
        assertFalse(EtcdAccess.plain(HTTP).tls());
        assertTrue(new EtcdAccess(HTTPS, null, null, null, null, null).tls());
        assertTrue(new EtcdAccess(HTTPS, CA, CERT, KEY, null, null).tls());
        assertTrue(new EtcdAccess(HTTPS, CA, CERT, KEY, "node-a", PASSWORD).tls());
    }

    @Test
    void refusesHalfConfiguredConnections() {
        assertRefused("all http:// or all https://", List.of(HTTP.get(0), HTTPS.get(0)), null, null, null, null, null);
        assertRefused("only the certificate is set", HTTPS, CA, CERT, null, null, null);
        assertRefused("only the key is set", HTTPS, CA, null, KEY, null, null);
        assertRefused("write them as https://", HTTP, CA, null, null, null, null);
        assertRefused("write them as https://", HTTP, null, CERT, KEY, null, null);
        assertRefused("needs a password file", HTTPS, CA, null, null, "node-a", null);
        assertRefused("no etcd user", HTTPS, CA, null, null, null, PASSWORD);
        assertRefused("user name is empty", HTTPS, CA, null, null, " ", PASSWORD);
        assertRefused("no etcd endpoint", List.of(), null, null, null, null, null);
        assertRefused("would send its password in the clear", HTTP, null, null, null, "node-a", PASSWORD);
    }

    @Test
    void describesWithoutSecrets() {
        String text = new EtcdAccess(HTTPS, CA, CERT, KEY, "node-a", PASSWORD).describe();
        assertTrue(text.contains("over TLS") && text.contains("client certificate " + CERT) && text.contains("user node-a"), text);
        assertFalse(text.contains(PASSWORD.toString()) || text.contains(KEY.toString()), text);
        assertEquals(HTTP.toString(), EtcdAccess.plain(HTTP).describe());
    }

    private static void assertRefused(String message, List<URI> endpoints, Path ca, Path cert, Path key, String user, Path password) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EtcdAccess(endpoints, ca, cert, key, user, password));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }
}
