package io.keymesh.schema.crypto;

import java.security.SecureRandom;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * An Ed25519 private key (the 32-byte seed). Its text form, for key files only, is the base64
 * of the seed. {@link #toString()} never shows the secret, so a key can't leak into a log line.
 */
public final class Ed25519PrivateKey {
    static final int SIGNATURE_LENGTH = 64;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Ed25519PrivateKeyParameters key;
    private final Ed25519PublicKey publicKey;

    private Ed25519PrivateKey(Ed25519PrivateKeyParameters key) {
        this.key = key;
        this.publicKey = Ed25519PublicKey.fromBytes(key.generatePublicKey().getEncoded());
    }

    public static Ed25519PrivateKey generate() {
        return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(RANDOM));
    }

    /** A key derived from a 32-byte seed, such as the secret part of a join token. */
    public static Ed25519PrivateKey fromSeed(byte[] seed) {
        if (seed.length != Base64Key.LENGTH) {
            throw new IllegalArgumentException("Ed25519 seed must be 32 bytes, got " + seed.length);
        }
        return new Ed25519PrivateKey(new Ed25519PrivateKeyParameters(seed, 0));
    }

    public static Ed25519PrivateKey parse(String base64Seed) {
        return fromSeed(Base64Key.decode(base64Seed == null ? null : base64Seed.strip(), "Ed25519 private key"));
    }

    /** The base64 seed, for writing a key file; nothing else should ever call this. */
    public String toBase64Secret() {
        return Base64Key.encode(key.getEncoded());
    }

    public Ed25519PublicKey publicKey() {
        return publicKey;
    }

    public byte[] sign(byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    @Override
    public String toString() {
        return "Ed25519PrivateKey[public=" + publicKey.base64() + "]";
    }
}
