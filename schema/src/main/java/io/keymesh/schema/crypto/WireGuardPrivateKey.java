package io.keymesh.schema.crypto;

import java.security.SecureRandom;
import java.util.HexFormat;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;

/**
 * A WireGuard (X25519) private key in exactly the form {@code wg genkey} makes: 32 random bytes,
 * clamped, base64. {@link #toString()} never shows the secret.
 */
public final class WireGuardPrivateKey {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] raw;
    private final WireGuardPublicKey publicKey;

    private WireGuardPrivateKey(byte[] raw) {
        this.raw = raw;
        // X25519 clamps the scalar itself, so an unclamped key (which wg also accepts) derives the
        // same public key as its clamped form, just as `wg pubkey` does.
        this.publicKey = WireGuardPublicKey.fromBytes(
                new X25519PrivateKeyParameters(raw, 0).generatePublicKey().getEncoded());
    }

    public static WireGuardPrivateKey generate() {
        byte[] raw = new byte[Base64Key.LENGTH];
        RANDOM.nextBytes(raw);
        clamp(raw);
        return new WireGuardPrivateKey(raw);
    }

    /** Parses {@code wg genkey} output (surrounding white space, such as its newline, ignored). */
    public static WireGuardPrivateKey parse(String base64) {
        return new WireGuardPrivateKey(Base64Key.decode(base64 == null ? null : base64.strip(), "WireGuard private key"));
    }

    /** Parses the hex form the userspace control socket uses. */
    public static WireGuardPrivateKey fromHex(String hex) {
        byte[] raw;
        try {
            raw = java.util.HexFormat.of().parseHex(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("WireGuard private key is not valid hex");
        }
        if (raw.length != Base64Key.LENGTH) {
            throw new IllegalArgumentException("WireGuard private key must be 32 bytes, got " + raw.length);
        }
        return new WireGuardPrivateKey(raw);
    }

    /** Curve25519 clamping, as wg's {@code curve25519_clamp_secret}. */
    static void clamp(byte[] k) {
        k[0] &= (byte) 248;
        k[31] &= 127;
        k[31] |= 64;
    }

    public WireGuardPublicKey publicKey() {
        return publicKey;
    }

    /** The key as {@code wg genkey} prints it, for the key file and for {@code wg set ... private-key}. */
    public String toBase64Secret() {
        return Base64Key.encode(raw);
    }

    /** The key as the userspace control socket wants it ({@code private_key=<hex>}). */
    public String toHexSecret() {
        return HexFormat.of().formatHex(raw);
    }

    @Override
    public String toString() {
        return "WireGuardPrivateKey[public=" + publicKey.base64() + "]";
    }
}
