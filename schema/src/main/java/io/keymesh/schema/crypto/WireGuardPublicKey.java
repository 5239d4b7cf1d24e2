package io.keymesh.schema.crypto;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.HexFormat;

/** A WireGuard (X25519) public key: base64 as {@code wg pubkey} prints it, hex for the control socket. */
public final class WireGuardPublicKey {
    private final byte[] raw;

    private WireGuardPublicKey(byte[] raw) {
        this.raw = raw;
    }

    @JsonCreator
    public static WireGuardPublicKey parse(String base64) {
        return checked(Base64Key.decode(base64, "WireGuard public key"));
    }

    public static WireGuardPublicKey fromHex(String hex) {
        byte[] raw;
        try {
            raw = HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("WireGuard public key is not valid hex");
        }
        return fromBytes(raw);
    }

    static WireGuardPublicKey fromBytes(byte[] raw) {
        if (raw.length != Base64Key.LENGTH) {
            throw new IllegalArgumentException("WireGuard public key must be 32 bytes, got " + raw.length);
        }
        return checked(raw.clone());
    }

    /** The all-zero key is the commonest low-order point: no handshake with it can succeed. */
    private static WireGuardPublicKey checked(byte[] raw) {
        if (Arrays.equals(raw, new byte[Base64Key.LENGTH])) {
            throw new IllegalArgumentException("WireGuard public key is all zeros");
        }
        return new WireGuardPublicKey(raw);
    }

    @JsonValue
    public String base64() {
        return Base64Key.encode(raw);
    }

    public String hex() {
        return HexFormat.of().formatHex(raw);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WireGuardPublicKey other && Arrays.equals(raw, other.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return base64();
    }
}
