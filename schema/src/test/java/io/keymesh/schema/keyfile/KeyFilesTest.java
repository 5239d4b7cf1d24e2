package io.keymesh.schema.keyfile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.crypto.Ed25519PrivateKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyFilesTest {
    @TempDir
    Path dir;

    @Test
    void aWrittenSecretIsOwnerOnlyAndReadsBack() throws Exception {
        Path file = dir.resolve("keys/authority.key");
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        KeyFiles.writeSecret(file, key.toBase64Secret(), false);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())), "a new key directory is 0700");
        assertEquals(key.publicKey(), Ed25519PrivateKey.parse(KeyFiles.readSecret(file)).publicKey());
        try (var leftovers = Files.list(file.getParent())) {
            assertEquals(List.of(file), leftovers.toList(), "no temp file left behind");
        }
    }

    @Test
    void anExistingKeyIsNeverReplacedUnlessAsked() {
        Path file = dir.resolve("a.key");
        KeyFiles.writeSecret(file, "first", false);
        KeyFileException e = assertThrows(KeyFileException.class, () -> KeyFiles.writeSecret(file, "second", false));
        assertTrue(e.getMessage().contains("refusing to replace a key"), e.getMessage());
        assertEquals("first", KeyFiles.readSecret(file));
        KeyFiles.writeSecret(file, "second", true);
        assertEquals("second", KeyFiles.readSecret(file));
    }

    @Test
    void aGroupReadableFileIsRefusedWithTheFix() throws Exception {
        Path file = dir.resolve("loose.key");
        KeyFiles.writeSecret(file, "secret", false);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        KeyFileException e = assertThrows(KeyFileException.class, () -> KeyFiles.readSecret(file));
        assertEquals(file + " is readable by group or others (mode rw-r-----): run 'chmod 600 " + file
                + "', and replace the key if others may have read it", e.getMessage());
    }

    @Test
    void aSymbolicLinkIsRefused() throws Exception {
        Path real = dir.resolve("real.key");
        KeyFiles.writeSecret(real, "secret", false);
        Path link = Files.createSymbolicLink(dir.resolve("link.key"), real);
        assertTrue(assertThrows(KeyFileException.class, () -> KeyFiles.readSecret(link)).getMessage().contains("symbolic link"));
    }

    @Test
    void missingAndEmptyFilesAreNamed() throws Exception {
        assertEquals(dir.resolve("none") + " does not exist",
                assertThrows(KeyFileException.class, () -> KeyFiles.readSecret(dir.resolve("none"))).getMessage());
        Path empty = Files.createFile(dir.resolve("empty"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        assertEquals(empty + " is empty", assertThrows(KeyFileException.class, () -> KeyFiles.readSecret(empty)).getMessage());
    }
}
