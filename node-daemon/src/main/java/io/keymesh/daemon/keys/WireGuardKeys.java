package io.keymesh.daemon.keys;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.keyfile.KeyFiles;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The host's WireGuard key and, while a rotation is under way, the next one, each in its own file
 * ({@code wireguard.key}, {@code wireguard.next.key}). The next key is made once and kept until
 * it is promoted, whatever happens in between, so a crash can never lose a key the authority may
 * already have admitted: the record in etcd names either the current key (the rotation has not
 * committed: keep both) or the next one (it has: promote). Promotion is one atomic rename.
 * Thread-safe.
 */
public final class WireGuardKeys {
    private final Path currentFile;
    private final Path nextFile;
    private volatile WireGuardPrivateKey current;
    private volatile WireGuardPrivateKey next;

    public WireGuardKeys(Path directory, WireGuardPrivateKey current, WireGuardPrivateKey next) {
        this.currentFile = directory.resolve(KeyStore.WIREGUARD_FILE);
        this.nextFile = directory.resolve(KeyStore.NEXT_WIREGUARD_FILE);
        this.current = current;
        this.next = next;
    }

    public WireGuardPrivateKey current() {
        return current;
    }

    public Optional<WireGuardPrivateKey> next() {
        return Optional.ofNullable(next);
    }

    /** The next key, made and persisted (0600, fsync) on the first call of a rotation. */
    public synchronized WireGuardPrivateKey prepareNext() {
        if (next == null) {
            WireGuardPrivateKey made = WireGuardPrivateKey.generate();
            KeyFiles.writeSecret(nextFile, made.toBase64Secret(), false);
            next = made;
        }
        return next;
    }

    /** The authority admitted the next key: it becomes the current one, on disk first. */
    public synchronized WireGuardPrivateKey promote() {
        if (next == null) {
            throw new IllegalStateException("no next key to promote");
        }
        KeyFiles.promote(nextFile, currentFile);
        current = next;
        next = null;
        return current;
    }
}
