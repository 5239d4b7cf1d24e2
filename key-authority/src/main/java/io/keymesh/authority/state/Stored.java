package io.keymesh.authority.state;

/**
 * A value as stored in etcd: the parsed value (null when it did not parse or verify) and the
 * key's mod revision, which guarded writes compare against.
 */
public record Stored<T>(T value, long modRevision, String invalidReason) {
    static <T> Stored<T> valid(T value, long modRevision) {
        return new Stored<>(value, modRevision, null);
    }

    static <T> Stored<T> invalid(String reason, long modRevision) {
        return new Stored<>(null, modRevision, reason);
    }

    public boolean isValid() {
        return value != null;
    }
}
