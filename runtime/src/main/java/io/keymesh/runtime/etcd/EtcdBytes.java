package io.keymesh.runtime.etcd;

import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;

/** Keys are UTF-8 text in etcd; values are the bytes of one JSON line. */
public final class EtcdBytes {
    private EtcdBytes() {
    }

    public static ByteSequence key(String key) {
        return ByteSequence.from(key, StandardCharsets.UTF_8);
    }

    public static ByteSequence value(byte[] value) {
        return ByteSequence.from(value);
    }

    public static String text(ByteSequence bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
