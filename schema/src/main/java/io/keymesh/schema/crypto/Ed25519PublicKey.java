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
    /** Decoded and fully validated on first use as a verifier, then reused: decoding costs as much as half a verification. */
    private volatile Ed25519PublicKeyParameters verifier;
    private volatile Boolean fullyValid;

    private Ed25519PublicKey(byte[] raw) {
        this.raw = raw;
    }

    @JsonCreator
    public static Ed25519PublicKey parse(String base64) {
        return fromBytes(Base64Key.decode(base64, "Ed25519 public key"));
    }

    /**
     * Accepts only the encoding of a point on the curve. The full check (a point of prime order,
     * {@link #isFullyValid()}) costs as much as a signature verification, so it is made where a key
     * enters the mesh (an enrollment, a reprovision) and before the key ever verifies a signature,
     * not on every parse: a daemon parses every record's identity key and never verifies with it.
     */
    public static Ed25519PublicKey fromBytes(byte[] raw) {
        if (raw.length != Base64Key.LENGTH) {
            throw new IllegalArgumentException("Ed25519 public key must be 32 bytes, got " + raw.length);
        }
        if (!Ed25519.validatePublicKeyPartial(raw, 0)) {
            throw new IllegalArgumentException("Ed25519 public key is not a valid curve point");
        }
        return new Ed25519PublicKey(raw.clone());
    }

    /** Whether the key is a point of the prime-order subgroup, as every signing key must be (cached). */
    public boolean isFullyValid() {
        Boolean valid = fullyValid;
        if (valid == null) {
            valid = Ed25519.validatePublicKeyFull(raw, 0);
            fullyValid = valid;
        }
        return valid;
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
        if (!isFullyValid()) {
            return false;
        }
        try {
            Ed25519PublicKeyParameters parameters = verifier;
            if (parameters == null) {
                parameters = new Ed25519PublicKeyParameters(raw, 0);
                verifier = parameters;
            }
            Ed25519Signer signer = new Ed25519Signer();
            signer.init(false, parameters);
            signer.update(message, 0, message.length);
            return signer.verifySignature(signature);
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
