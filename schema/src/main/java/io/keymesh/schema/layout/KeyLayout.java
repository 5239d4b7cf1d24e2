package io.keymesh.schema.layout;

import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.Ids;
import io.keymesh.schema.record.NodeName;
import java.net.InetAddress;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The one place that knows the etcd key layout (see docs/etcd-layout.md). Every key lives under a
 * configurable prefix, default {@value #DEFAULT_PREFIX}; {@link #parse} maps a key back to its
 * kind and name and refuses anything that does not fit the layout exactly.
 */
public final class KeyLayout {
    public static final String DEFAULT_PREFIX = "/keymesh/v1";

    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._-]+)+");
    private static final Pattern HEX16 = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");

    /** The kinds of keys, each a directory of named entries except {@link #CONFIG}. */
    public enum Kind {
        AUTHORITY_KEY("authority/keys/", name -> HEX16.matcher(name).matches()),
        CONFIG("config", String::isEmpty),
        TOKEN("tokens/", Ids::isValid),
        ENROLL("enroll/", NodeName::isValid),
        ENROLL_RESULT("enroll-results/", NodeName::isValid),
        NODE("nodes/", NodeName::isValid),
        IPAM("ipam/", KeyLayout::isCanonicalAddress),
        REVOKED("revoked/", name -> HEX64.matcher(name).matches()),
        REQUEST("requests/", Ids::isValid),
        STATUS("status/", NodeName::isValid),
        AUDIT("audit/", Ids::isValid);

        private final String segment;
        private final Predicate<String> validName;

        Kind(String segment, Predicate<String> validName) {
            this.segment = segment;
            this.validName = validName;
        }

        boolean isDirectory() {
            return segment.endsWith("/");
        }
    }

    /** A key of the layout, split into its kind and its name (empty for {@link Kind#CONFIG}). */
    public record Key(Kind kind, String name) {
    }

    private final String prefix;

    public KeyLayout(String prefix) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("invalid etcd prefix '" + prefix
                    + "': it must start with '/', not end with '/', and use letters, digits, '.', '_', '-'");
        }
        this.prefix = prefix;
    }

    public static KeyLayout defaults() {
        return new KeyLayout(DEFAULT_PREFIX);
    }

    public String prefix() {
        return prefix;
    }

    /** The root of everything keymesh stores, with a trailing slash, for a prefix read or watch. */
    public String root() {
        return prefix + "/";
    }

    /** The directory of a kind, with a trailing slash, for a prefix read or watch. */
    public String directory(Kind kind) {
        if (!kind.isDirectory()) {
            throw new IllegalArgumentException(kind + " is a single key, not a directory");
        }
        return prefix + "/" + kind.segment;
    }

    public String key(Kind kind, String name) {
        if (!kind.isDirectory()) {
            throw new IllegalArgumentException(kind + " is a single key; use config()");
        }
        if (name == null || !kind.validName.test(name)) {
            throw new IllegalArgumentException("invalid name for " + kind + ": '" + name + "'");
        }
        return prefix + "/" + kind.segment + name;
    }

    public String config() {
        return prefix + "/" + Kind.CONFIG.segment;
    }

    public String node(String node) {
        return key(Kind.NODE, node);
    }

    public String enroll(String node) {
        return key(Kind.ENROLL, node);
    }

    public String enrollResult(String node) {
        return key(Kind.ENROLL_RESULT, node);
    }

    public String status(String node) {
        return key(Kind.STATUS, node);
    }

    public String token(String id) {
        return key(Kind.TOKEN, id);
    }

    public String request(String id) {
        return key(Kind.REQUEST, id);
    }

    public String audit(String id) {
        return key(Kind.AUDIT, id);
    }

    public String ipam(InetAddress address) {
        return key(Kind.IPAM, IpAddresses.format(address));
    }

    public String revoked(String identityFingerprint) {
        return key(Kind.REVOKED, identityFingerprint);
    }

    public String authorityKey(String keyId) {
        return key(Kind.AUTHORITY_KEY, keyId);
    }

    /** The election name for jetcd's election API; campaign keys live below it. */
    public String election() {
        return prefix + "/authority/election";
    }

    public Optional<Key> parse(String key) {
        if (key == null || !key.startsWith(root())) {
            return Optional.empty();
        }
        String rest = key.substring(root().length());
        for (Kind kind : Kind.values()) {
            if (kind.isDirectory() ? rest.startsWith(kind.segment) : rest.equals(kind.segment)) {
                String name = rest.substring(kind.segment.length());
                return kind.validName.test(name) ? Optional.of(new Key(kind, name)) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    private static boolean isCanonicalAddress(String name) {
        try {
            return IpAddresses.format(IpAddresses.parse(name)).equals(name);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return prefix;
    }
}
