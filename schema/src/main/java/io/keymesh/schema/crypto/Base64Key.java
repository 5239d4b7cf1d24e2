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
            raw = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " is not valid base64");
        }
        if (raw.length != LENGTH) {
            throw new IllegalArgumentException(what + " must be 32 bytes, got " + raw.length);
        }
        if (!encode(raw).equals(text)) {
            throw new IllegalArgumentException(what + " is not in canonical base64 (padding bits set)");
        }
        return raw;
    }

    /**
     * Decodes base64 only in its canonical form: the decoder ignores set padding bits, so without
     * this check several strings would stand for the same key or signature.
     */
    static byte[] decodeCanonical(String text) {
        byte[] raw = Base64.getDecoder().decode(text);
        if (!Base64.getEncoder().encodeToString(raw).equals(text)) {
            throw new IllegalArgumentException("not canonical base64");
        }
        return raw;
    }

    static String encode(byte[] raw) {
        return Base64.getEncoder().encodeToString(raw);
    }
}
