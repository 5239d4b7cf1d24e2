package io.keymesh.schema.crypto;

import io.keymesh.schema.record.Ids;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A join token as the operator hands it to a host: {@code <id>.<secret>}. The secret seeds the
 * Ed25519 proof key (domain-separated SHA-256), whose public half is all etcd ever stores.
 * {@link #toString()} shows only the id.
 */
public final class JoinTokenSecret {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final byte[] DOMAIN = "keymesh join token proof v1\0".getBytes(StandardCharsets.US_ASCII);

    private final String id;
    private final byte[] secret;

    private JoinTokenSecret(String id, byte[] secret) {
        this.id = Ids.require(id, "token id");
        this.secret = secret;
    }

    public static JoinTokenSecret generate() {
        byte[] idBytes = new byte[6];
        byte[] secret = new byte[32];
        RANDOM.nextBytes(idBytes);
        RANDOM.nextBytes(secret);
        return new JoinTokenSecret("t" + java.util.HexFormat.of().formatHex(idBytes), secret);
    }

    /** Parses {@code <id>.<secret>}; white space around it (a trailing newline in a file) is ignored. */
    public static JoinTokenSecret parse(String text) {
        String token = text == null ? "" : text.strip();
        int dot = token.lastIndexOf('.');
        if (dot <= 0 || dot == token.length() - 1) {
            throw new IllegalArgumentException("join token must look like <id>.<secret>");
        }
        byte[] secret;
        try {
            secret = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("join token secret is not valid base64url");
        }
        if (secret.length != 32) {
            throw new IllegalArgumentException("join token secret must be 32 bytes, got " + secret.length);
        }
        return new JoinTokenSecret(token.substring(0, dot), secret);
    }

    public String id() {
        return id;
    }

    public Ed25519PrivateKey proofKey() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(DOMAIN);
            return Ed25519PrivateKey.fromSeed(sha.digest(secret));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** The full token text, to be shown to the operator once or written to a 0600 file. */
    public String reveal() {
        return id + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    }

    @Override
    public String toString() {
        return "JoinToken[" + id + "]";
    }
}
