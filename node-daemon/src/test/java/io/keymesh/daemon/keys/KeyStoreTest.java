package io.keymesh.daemon.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.keyfile.KeyFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyStoreTest {
    @TempDir
    Path root;

    @Test
    void aFreshHostGetsBothKeysAndARestartLoadsTheSameOnes() throws Exception {
        Path state = root.resolve("keymesh");
        NodeKeys first = new KeyStore(state).loadOrCreate();
        assertTrue(first.generated());
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("identity.key"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("wireguard.key"))));

        NodeKeys again = new KeyStore(state).loadOrCreate();
        assertFalse(again.generated());
        assertEquals(first.identity().publicKey(), again.identity().publicKey());
        assertEquals(first.wireGuard().current().publicKey(), again.wireGuard().current().publicKey());
        assertFalse(again.toString().contains(again.wireGuard().current().toBase64Secret()));
    }

    @Test
    void aCorruptKeyStopsWithAnInstructionAndIsNeverRegenerated() throws Exception {
        Path state = root.resolve("keymesh");
        new KeyStore(state).loadOrCreate();
        Files.writeString(state.resolve("wireguard.key"), "not a key\n");
        KeyFileException e = assertThrows(KeyFileException.class, () -> new KeyStore(state).loadOrCreate());
        assertTrue(e.getMessage().startsWith(state.resolve("wireguard.key") + " is corrupt"), e.getMessage());
        assertEquals("not a key\n", Files.readString(state.resolve("wireguard.key")), "the file is left as it was");
    }

    @Test
    void aMissingHalfStopsInsteadOfMakingANewIdentity() throws Exception {
        Path state = root.resolve("keymesh");
        new KeyStore(state).loadOrCreate();
        Files.writeString(state.resolve("mesh-state.json"), "{}"); // this host has run (and joined)
        Files.delete(state.resolve("identity.key"));
        KeyFileException e = assertThrows(KeyFileException.class, () -> new KeyStore(state).loadOrCreate());
        assertTrue(e.getMessage().contains("is missing while its companion key exists"), e.getMessage());
        assertFalse(Files.exists(state.resolve("identity.key")));

        Path other = root.resolve("other");
        new KeyStore(other).loadOrCreate();
        Files.delete(other.resolve("wireguard.key"));
        assertThrows(KeyFileException.class, () -> new KeyStore(other).loadOrCreate(), "an identity without its WireGuard key");
    }

    @Test
    void aFirstStartCutBetweenTheTwoKeysStartsAfresh() throws Exception {
        Path state = root.resolve("keymesh");
        NodeKeys first = new KeyStore(state).loadOrCreate();
        Files.delete(state.resolve("identity.key")); // as if the first start died before writing the identity

        NodeKeys again = new KeyStore(state).loadOrCreate();

        assertTrue(again.generated(), "a fresh host, which must join");
        assertTrue(Files.exists(state.resolve("identity.key")));
        assertFalse(first.wireGuard().current().publicKey().equals(again.wireGuard().current().publicKey()), "both keys made afresh");
    }

    @Test
    void theNextKeyIsPersistedBesideTheCurrentOneSurvivesARestartAndIsPromotedByRename() throws Exception {
        Path state = root.resolve("keymesh");
        NodeKeys keys = new KeyStore(state).loadOrCreate();
        var current = keys.wireGuard().current();
        var next = keys.wireGuard().prepareNext();
        assertEquals(next, keys.wireGuard().prepareNext(), "made once per rotation, never replaced");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("wireguard.next.key"))));

        NodeKeys restarted = new KeyStore(state).loadOrCreate();
        assertEquals(current.publicKey(), restarted.wireGuard().current().publicKey(), "the current key stays until promotion");
        assertEquals(next.publicKey(), restarted.wireGuard().next().orElseThrow().publicKey(), "a crash loses no next key");

        restarted.wireGuard().promote();
        assertEquals(next.publicKey(), restarted.wireGuard().current().publicKey());
        assertFalse(Files.exists(state.resolve("wireguard.next.key")));
        NodeKeys afterPromotion = new KeyStore(state).loadOrCreate();
        assertEquals(next.publicKey(), afterPromotion.wireGuard().current().publicKey());
        assertTrue(afterPromotion.wireGuard().next().isEmpty());
    }

    @Test
    void keysOrADirectoryOpenToOthersStopTheDaemon() throws Exception {
        Path state = root.resolve("keymesh");
        new KeyStore(state).loadOrCreate();
        Files.setPosixFilePermissions(state.resolve("identity.key"), PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(assertThrows(KeyFileException.class, () -> new KeyStore(state).loadOrCreate()).getMessage()
                .contains("readable by group or others"));
        Files.setPosixFilePermissions(state.resolve("identity.key"), PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertTrue(assertThrows(KeyFileException.class, () -> new KeyStore(state).loadOrCreate()).getMessage()
                .contains("chmod 700"));
    }
}
