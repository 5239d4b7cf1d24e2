package io.keymesh.runtime.etcd;

/**
 * One key as etcd reported it: its value at {@code modRevision}, or a deletion at that revision
 * ({@code value} null).
 */
public record Change(String key, byte[] value, long modRevision) {
    public static Change delete(String key, long revision) {
        return new Change(key, null, revision);
    }

    public boolean isDelete() {
        return value == null;
    }
}
