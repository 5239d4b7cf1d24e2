package io.keymesh.schema.crypto;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * An Ed25519 public key: an authority signing key, a node identity key, or a join-token proof key.
 * Its JSON form is the base64 of the 32 raw bytes.
 */
public final class Ed25519PublicKey {
    private final byte[] raw;

    private Ed25519PublicKey(byte[] raw) {
        this.raw = raw;
    }

    @JsonCreator
    public static Ed25519PublicKey parse(String base64) {
        return fromBytes(Base64Key.decode(base64, "Ed25519 public key"));
    }

    /** Accepts only the encoding of a valid curve point, so every key a record names can verify. */
    public static Ed25519PublicKey fromBytes(byte[] raw) {
        if (raw.length != Base64Key.LENGTH) {
            throw new IllegalArgumentException("Ed25519 public key must be 32 bytes, got " + raw.length);
        }
        if (!Ed25519.validatePublicKeyFull(raw, 0)) {
            throw new IllegalArgumentException("Ed25519 public key is not a valid curve point");
        }
        return new Ed25519PublicKey(raw.clone());
    }

    public byte[] bytes() {
        return raw.clone();
    }

    @JsonValue
    public String base64() {
        return Base64Key.encode(raw);
    }

    /** Lower-case hex SHA-256 of the raw key: the name of a tombstone under {@code revoked/}. */
    public String fingerprint() {
        return Digests.sha256Hex(raw);
    }

    /** The first 16 hex digits of the fingerprint: how records name the authority key that signed them. */
    public String keyId() {
        return fingerprint().substring(0, 16);
    }

    /** True only for a valid signature; any malformed input is simply not one. */
    public boolean verify(byte[] message, byte[] signature) {
        if (signature.length != Ed25519PrivateKey.SIGNATURE_LENGTH) {
            return false;
        }
        try {
            Ed25519Signer verifier = new Ed25519Signer();
            verifier.init(false, new Ed25519PublicKeyParameters(raw, 0));
            verifier.update(message, 0, message.length);
            return verifier.verifySignature(signature);
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Ed25519PublicKey other && Arrays.equals(raw, other.raw);
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
