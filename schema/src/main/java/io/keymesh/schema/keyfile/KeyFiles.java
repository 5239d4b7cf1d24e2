package io.keymesh.schema.keyfile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Secret files (private keys, join tokens, passwords): one line of text, mode 0600. Written as a temp file
 * in the same directory, fsynced, then atomically renamed, then the directory fsynced, so a crash
 * leaves either the old file or the new one, never a torn one. Reading refuses a file that group
 * or others can read, with a message that says how to fix it; it never "repairs" a key.
 */
public final class KeyFiles {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private KeyFiles() {
    }

    /** Reads the one line of a secret file; throws {@link KeyFileException} with a fix-it message. */
    public static String readSecret(Path file) {
        String text = readPrivate(file).strip();
        if (text.isEmpty()) {
            throw new KeyFileException(file + " is empty");
        }
        return text;
    }

    /**
     * Reads a whole private file (a PEM key, say) after the same checks as {@link #readSecret}:
     * no symbolic link, nothing readable by group or others.
     */
    public static String readPrivate(Path file) {
        try {
            if (Files.isSymbolicLink(file)) {
                throw new KeyFileException(file + " is a symbolic link; point the configuration at the key file itself");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, java.nio.file.LinkOption.NOFOLLOW_LINKS);
            if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                throw new KeyFileException(file + " is readable by group or others (mode "
                        + PosixFilePermissions.toString(mode) + "): run 'chmod 600 " + file + "', and replace the key if others may have read it");
            }
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            throw new KeyFileException(file + " does not exist");
        } catch (AccessDeniedException e) {
            throw new KeyFileException(file + " is not readable by this user");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new KeyFileException(file + " is not a text file");
        } catch (IOException e) {
            throw new KeyFileException("cannot read " + file + ": " + e.getMessage());
        }
    }

    /**
     * Writes a secret file atomically, mode 0600. With {@code overwrite} false an existing file
     * is an error: replacing a key is an operator's decision, never a side effect.
     */
    public static void writeSecret(Path file, String secret, boolean overwrite) {
        Path dir = file.toAbsolutePath().getParent();
        try {
            if (!overwrite && Files.exists(file)) {
                throw new KeyFileException(file + " already exists; refusing to replace a key (remove it first if you mean to)");
            }
            if (!Files.isDirectory(dir)) {
                // A directory made for keys is the owner's alone (0700), whatever the umask says.
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIRECTORY));
                Files.setPosixFilePermissions(dir, OWNER_ONLY_DIRECTORY);
            }
            Path temp = Files.createTempFile(dir, "." + file.getFileName() + ".", ".tmp",
                    PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            try {
                try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                    channel.write(ByteBuffer.wrap((secret + "\n").getBytes(StandardCharsets.US_ASCII)));
                    channel.force(true);
                }
                move(temp, file, overwrite);
            } finally {
                Files.deleteIfExists(temp);
            }
            try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
                directory.force(true);
            }
        } catch (FileAlreadyExistsException e) {
            throw new KeyFileException(file + " already exists; refusing to replace a key (remove it first if you mean to)");
        } catch (IOException e) {
            throw new KeyFileException("cannot write " + file + ": " + e.getMessage());
        }
    }

    /**
     * Renames {@code from} over {@code to} atomically and makes the rename durable (directory
     * fsync): after a crash there is either the old {@code to} and {@code from}, or only the new
     * {@code to}, never neither.
     */
    public static void promote(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel directory = FileChannel.open(to.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
                directory.force(true);
            }
        } catch (IOException e) {
            throw new KeyFileException("cannot rename " + from + " to " + to + ": " + e.getMessage());
        }
    }

    private static void move(Path temp, Path file, boolean overwrite) throws IOException {
        try {
            if (overwrite) {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } else {
                // A hard link fails if the target exists, so two writers can never both "create" a key.
                Files.createLink(file, temp);
            }
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system cannot rename atomically", e);
        }
    }
}
