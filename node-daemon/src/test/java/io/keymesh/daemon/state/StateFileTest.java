package io.keymesh.daemon.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.keyfile.KeyFileException;
import io.keymesh.schema.verify.EpochGuard;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTest {
    @TempDir
    Path dir;

    @Test
    void aFreshHostHasNoState() {
        assertEquals(StateFile.Saved.EMPTY, new StateFile(dir.resolve("state")).load());
    }

    @Test
    void whatIsSavedIsLoadedBackOwnerOnly() throws Exception {
        WireGuardPublicKey owned = WireGuardPrivateKey.generate().publicKey();
        byte[] record = "{\"node\":\"a\"}".getBytes(StandardCharsets.UTF_8);
        StateFile file = new StateFile(dir.resolve("state"));
        file.save(new StateFile.Saved(42, Map.of("/keymesh/v1/nodes/a", record), new byte[] {1, 2},
                Map.of("a", new EpochGuard.Seen(3, 3, new byte[] {9})), Set.of(owned)));

        StateFile.Saved loaded = file.load();

        assertEquals(42, loaded.revision());
        assertArrayEquals(record, loaded.records().get("/keymesh/v1/nodes/a"));
        assertArrayEquals(new byte[] {1, 2}, loaded.config());
        assertEquals(new EpochGuard.Seen(3, 3, new byte[] {9}), loaded.highestSeen().get("a"));
        assertEquals(Set.of(owned), loaded.owned());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path())));
    }

    @Test
    void aFileFromBeforeSerialsLoadsWithOneSerialPerEpoch() throws Exception {
        StateFile file = new StateFile(dir.resolve("state"));
        Files.createDirectories(file.path().getParent());
        Files.writeString(file.path(), "{\"version\":1,\"revision\":7,\"records\":{},\"highestSeen\":{\"a\":{\"epoch\":4,"
                + "\"content\":\"CQ==\"}},\"owned\":[]}");
        assertEquals(new EpochGuard.Seen(4, 4, new byte[] {9}), file.load().highestSeen().get("a"));
    }

    @Test
    void aDamagedFileIsOneClearErrorNeverSilentlyDropped() throws Exception {
        StateFile file = new StateFile(dir);
        Files.writeString(file.path(), "{\"version\":1,\"revision\":");
        KeyFileException e = assertThrows(KeyFileException.class, file::load);
        assertTrue(e.getMessage().contains("is damaged") && e.getMessage().contains("move it aside"), e.getMessage());
        assertTrue(Files.exists(file.path()));
    }
}
