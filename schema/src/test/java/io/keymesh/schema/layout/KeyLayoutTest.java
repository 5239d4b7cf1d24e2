package io.keymesh.schema.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.layout.KeyLayout.Key;
import io.keymesh.schema.layout.KeyLayout.Kind;
import io.keymesh.schema.record.IpAddresses;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyLayoutTest {
    private final KeyLayout layout = KeyLayout.defaults();

    @Test
    void keysFollowTheDocumentedLayout() {
        assertEquals("/keymesh/v1/nodes/node-a", layout.node("node-a"));
        assertEquals("/keymesh/v1/enroll/node-a", layout.enroll("node-a"));
        assertEquals("/keymesh/v1/status/node-a", layout.status("node-a"));
        assertEquals("/keymesh/v1/tokens/t0a1b2c", layout.token("t0a1b2c"));
        assertEquals("/keymesh/v1/config", layout.config());
        assertEquals("/keymesh/v1/ipam/198.18.0.7", layout.ipam(IpAddresses.parse("198.18.0.7")));
        assertEquals("/keymesh/v1/ipam/2001:db8::7", layout.ipam(IpAddresses.parse("2001:db8:0:0::7")));
        assertEquals("/keymesh/v1/authority/election", layout.election());
        assertEquals("/keymesh/v1/nodes/", layout.directory(Kind.NODE));
    }

    @Test
    void everyKeyParsesBackToItsKindAndName() {
        String fingerprint = Ed25519PrivateKey.generate().publicKey().fingerprint();
        String keyId = fingerprint.substring(0, 16);
        assertEquals(Optional.of(new Key(Kind.NODE, "n1")), layout.parse(layout.node("n1")));
        assertEquals(Optional.of(new Key(Kind.REVOKED, fingerprint)), layout.parse(layout.revoked(fingerprint)));
        assertEquals(Optional.of(new Key(Kind.AUTHORITY_KEY, keyId)), layout.parse(layout.authorityKey(keyId)));
        assertEquals(Optional.of(new Key(Kind.CONFIG, "")), layout.parse(layout.config()));
        assertEquals(Optional.of(new Key(Kind.IPAM, "2001:db8::7")), layout.parse("/keymesh/v1/ipam/2001:db8::7"));
        assertEquals(Optional.of(new Key(Kind.AUDIT, "20261121T043000Z-0001")), layout.parse(layout.audit("20261121T043000Z-0001")));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "/keymesh/v1/nodes/", "/keymesh/v1/nodes/Upper", "/keymesh/v1/nodes/a/b", "/keymesh/v1/nodes/-a",
        "/keymesh/v2/nodes/a", "/keymesh/v1nodes/a", "/keymesh/v1/config/x", "/keymesh/v1/unknown/a",
        "/keymesh/v1/ipam/2001:DB8::7", "/keymesh/v1/ipam/2001:db8:0::7", "/keymesh/v1/revoked/abc",
        "/keymesh/v1/authority/election/694d7a2b1c", "nodes/a"})
    void keysOutsideTheLayoutDoNotParse(String key) {
        assertTrue(layout.parse(key).isEmpty(), key);
    }

    @Test
    void aCustomPrefixMovesEverything() {
        KeyLayout custom = new KeyLayout("/prod/mesh-a");
        assertEquals("/prod/mesh-a/nodes/n1", custom.node("n1"));
        assertEquals(Optional.of(new Key(Kind.NODE, "n1")), custom.parse("/prod/mesh-a/nodes/n1"));
        assertTrue(custom.parse("/keymesh/v1/nodes/n1").isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/", "keymesh", "/keymesh/", "/key mesh", "//x"})
    void badPrefixesAreRefused(String prefix) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KeyLayout(prefix));
        assertTrue(e.getMessage().startsWith("invalid etcd prefix"), e.getMessage());
    }

    @Test
    void invalidNamesNeverMakeAKey() {
        assertThrows(IllegalArgumentException.class, () -> layout.node("../config"));
        assertThrows(IllegalArgumentException.class, () -> layout.token("a/b"));
        assertThrows(IllegalArgumentException.class, () -> layout.revoked("abc"));
    }
}
