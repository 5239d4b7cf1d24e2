package io.keymesh.daemon.keys;

import io.keymesh.daemon.state.StateFile;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.keyfile.KeyFileException;
import io.keymesh.schema.keyfile.KeyFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The host's keys under the state directory (default {@code /var/lib/keymesh}, never a tmpfs such
 * as {@code /run}, so a reboot keeps them): {@code identity.key} and {@code wireguard.key}, 0600
 * files in a 0700 directory, written atomically. On a fresh host both are generated. A key file
 * that is missing while the other exists, unreadable, corrupt, or readable by others stops the
 * daemon with one line saying what to do: it is never silently regenerated, because a new key is
 * a new identity, which is an operator's decision. The one exception: a WireGuard key alone with
 * no state ever saved is a first start cut short (the identity is written last), so that key was
 * never used and both are made afresh. During a key rotation {@code wireguard.next.key} holds the
 * next WireGuard key until it is promoted.
 */
public final class KeyStore {
    static final String IDENTITY_FILE = "identity.key";
    static final String WIREGUARD_FILE = "wireguard.key";
    /** The next WireGuard key while a rotation is under way (see {@link WireGuardKeys}). */
    static final String NEXT_WIREGUARD_FILE = "wireguard.next.key";

    private final Path directory;

    public KeyStore(Path directory) {
        this.directory = directory;
    }

    /**
     * Whether this host has an identity (or had one: its state was saved). A host without is fresh,
     * or its first start was cut short, and must join.
     */
    public boolean exists() {
        return Files.exists(directory.resolve(IDENTITY_FILE), LinkOption.NOFOLLOW_LINKS)
                || Files.exists(directory.resolve(StateFile.NAME), LinkOption.NOFOLLOW_LINKS);
    }

    public NodeKeys loadOrCreate() {
        Path identityFile = directory.resolve(IDENTITY_FILE);
        Path wireGuardFile = directory.resolve(WIREGUARD_FILE);
        checkDirectory();
        boolean haveIdentity = Files.exists(identityFile, LinkOption.NOFOLLOW_LINKS);
        boolean haveWireGuard = Files.exists(wireGuardFile, LinkOption.NOFOLLOW_LINKS);
        boolean firstStartCut = haveWireGuard && !haveIdentity && !Files.exists(directory.resolve(StateFile.NAME));
        if ((!haveIdentity && !haveWireGuard) || firstStartCut) {
            // The identity is written last, so a host has one only once both keys are on disk. A
            // WireGuard key alone, with no state ever saved, is a first start cut short: that key
            // was never used (a join needs the identity), so making both afresh loses nothing.
            Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
            WireGuardPrivateKey wireGuard = WireGuardPrivateKey.generate();
            KeyFiles.writeSecret(wireGuardFile, wireGuard.toBase64Secret(), firstStartCut);
            KeyFiles.writeSecret(identityFile, identity.toBase64Secret(), false);
            return new NodeKeys(identity, new WireGuardKeys(directory, wireGuard, null), true);
        }
        if (haveIdentity != haveWireGuard) {
            Path missing = haveIdentity ? wireGuardFile : identityFile;
            throw new KeyFileException(missing + " is missing while its companion key exists; restore it from a backup, "
                    + "or remove " + directory + " entirely to make this host a new identity (then reprovision it)");
        }
        Path nextFile = directory.resolve(NEXT_WIREGUARD_FILE);
        WireGuardPrivateKey next = Files.exists(nextFile, LinkOption.NOFOLLOW_LINKS) ? parse(nextFile, WireGuardPrivateKey::parse) : null;
        WireGuardKeys wireGuard = new WireGuardKeys(directory, parse(wireGuardFile, WireGuardPrivateKey::parse), next);
        return new NodeKeys(parse(identityFile, Ed25519PrivateKey::parse), wireGuard, false);
    }

    private void checkDirectory() {
        if (!Files.exists(directory)) {
            return; // created, 0700, with the first key
        }
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS);
            if (mode.stream().anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
                throw new KeyFileException(directory + " is open to group or others (mode " + PosixFilePermissions.toString(mode)
                        + "): run 'chmod 700 " + directory + "'");
            }
        } catch (IOException e) {
            throw new KeyFileException("cannot inspect " + directory + ": " + e.getMessage());
        }
    }

    private static <T> T parse(Path file, java.util.function.Function<String, T> parser) {
        String text = KeyFiles.readSecret(file);
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw new KeyFileException(file + " is corrupt (" + e.getMessage() + "); restore it from a backup, or remove the "
                    + "state directory to make this host a new identity (then reprovision it)");
        }
    }
}
