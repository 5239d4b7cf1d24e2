package io.keymesh.schema.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class Ed25519KeyTest {
    private static final HexFormat HEX = HexFormat.of();

    @Test
    void rfc8032TestVector2() {
        Ed25519PrivateKey key = Ed25519PrivateKey.fromSeed(
                HEX.parseHex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb"));
        assertEquals("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", HEX.formatHex(key.publicKey().bytes()));
        byte[] signature = key.sign(HEX.parseHex("72"));
        assertArrayEquals(HEX.parseHex("92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                + "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"), signature);
        assertTrue(key.publicKey().verify(HEX.parseHex("72"), signature));
    }

    @Test
    void aChangedMessageOrSignatureFails() {
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        byte[] message = "keymesh".getBytes(StandardCharsets.UTF_8);
        byte[] signature = key.sign(message);
        assertTrue(key.publicKey().verify(message, signature));
        assertFalse(key.publicKey().verify("keymesH".getBytes(StandardCharsets.UTF_8), signature));
        signature[5] ^= 1;
        assertFalse(key.publicKey().verify(message, signature));
        assertFalse(key.publicKey().verify(message, new byte[3]));
        assertFalse(Ed25519PrivateKey.generate().publicKey().verify(message, key.sign(message)));
    }

    @Test
    void secretRoundTripsThroughItsFileFormAndNeverShowsInToString() {
        Ed25519PrivateKey key = Ed25519PrivateKey.generate();
        assertEquals(key.publicKey(), Ed25519PrivateKey.parse(key.toBase64Secret()).publicKey());
        assertFalse(key.toString().contains(key.toBase64Secret()));
    }

    @Test
    void keyIdIsAPrefixOfTheFingerprint() {
        Ed25519PublicKey key = Ed25519PrivateKey.generate().publicKey();
        assertEquals(64, key.fingerprint().length());
        assertEquals(key.fingerprint().substring(0, 16), key.keyId());
    }
}
