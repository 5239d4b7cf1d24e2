package io.keymesh.schema.crypto;

import java.util.Base64;

/** Decoding of 32-byte keys in the base64 text form that {@code wg} and keymesh files use. */
final class Base64Key {
    static final int LENGTH = 32;

    private Base64Key() {
    }

    static byte[] decode(String text, String what) {
        if (text == null) {
            throw new IllegalArgumentException(what + " is missing");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not valid base64");
        }
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException(what + " must be 32 bytes, got " + raw.length);
        }
        return raw;
    }

    static String encode(byte[] raw) {
        return Base64.getEncoder().encodeToString(raw);
    }
}
