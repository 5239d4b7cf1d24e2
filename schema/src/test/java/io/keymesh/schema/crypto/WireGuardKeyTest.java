package io.keymesh.schema.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class WireGuardKeyTest {

    @Test
    void rfc7748VectorDerivesTheExpectedPublicKey() {
        // RFC 7748 section 6.1, Alice.
        byte[] secret = HexFormat.of().parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
        WireGuardPrivateKey key = WireGuardPrivateKey.parse(Base64.getEncoder().encodeToString(secret));
        assertEquals("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", key.publicKey().hex());
    }

    @Test
    void generatedKeysAreClampedLikeWgGenkey() {
        for (int i = 0; i < 200; i++) {
            byte[] raw = Base64.getDecoder().decode(WireGuardPrivateKey.generate().toBase64Secret());
            assertEquals(0, raw[0] & 7, "low three bits cleared");
            assertEquals(0, raw[31] & 128, "top bit cleared");
            assertEquals(64, raw[31] & 64, "second-highest bit set");
        }
    }

    @Test
    void textFormsRoundTrip() {
        WireGuardPrivateKey key = WireGuardPrivateKey.generate();
        assertEquals(44, key.toBase64Secret().length());
        assertEquals(64, key.toHexSecret().length());
        assertEquals(key.publicKey(), WireGuardPrivateKey.parse(key.toBase64Secret() + "\n").publicKey());
        assertEquals(key.publicKey(), WireGuardPublicKey.fromHex(key.publicKey().hex()));
        assertEquals(key.publicKey(), WireGuardPublicKey.parse(key.publicKey().base64()));
    }

    @Test
    void toStringNeverShowsTheSecret() {
        WireGuardPrivateKey key = WireGuardPrivateKey.generate();
        assertTrue(!key.toString().contains(key.toBase64Secret()) && !key.toString().contains(key.toHexSecret()));
    }

    @Test
    void malformedKeysAreRefusedWithAClearMessage() {
        IllegalArgumentException shortKey = assertThrows(IllegalArgumentException.class, () -> WireGuardPublicKey.parse("AAAA"));
        assertEquals("WireGuard public key must be 32 bytes, got 3", shortKey.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WireGuardPublicKey.parse("not base64!"));
        assertThrows(IllegalArgumentException.class, () -> WireGuardPublicKey.fromHex("zz"));
        assertEquals("WireGuard public key is all zeros", assertThrows(IllegalArgumentException.class,
                () -> WireGuardPublicKey.parse(Base64.getEncoder().encodeToString(new byte[32]))).getMessage());
    }

    @Test
    void aKeyWrittenWithPaddingBitsSetIsRefused() {
        // 32 bytes in 43 base64 digits leave 2 spare bits in the last digit: 'A=' and 'B=' decode alike.
        byte[] raw = new byte[32];
        raw[0] = 9;
        String canonical = Base64.getEncoder().encodeToString(raw);
        String alias = canonical.substring(0, 42) + "B=";
        assertEquals(32, Base64.getDecoder().decode(alias).length);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WireGuardPublicKey.parse(alias));
        assertEquals("WireGuard public key is not in canonical base64 (padding bits set)", e.getMessage());
    }

    @Test
    void ourDerivationAgreesWithWgPubkey() throws Exception {
        Path wg = Path.of("/usr/bin/wg");
        if (!Files.isExecutable(wg)) {
            if (System.getenv("CI") != null) {
                fail("wg is not installed; CI runs ops/setup.sh, which installs wireguard-tools");
            }
            Assumptions.abort("wg is not installed (Debian package wireguard-tools)");
        }
        for (int i = 0; i < 10; i++) {
            // Our key through wg pubkey (the secret goes by stdin, never argv).
            WireGuardPrivateKey ours = WireGuardPrivateKey.generate();
            assertEquals(ours.publicKey().base64(), run(wg, "pubkey", ours.toBase64Secret() + "\n"));
            // wg's key through our derivation.
            String theirs = run(wg, "genkey", "");
            assertEquals(run(wg, "pubkey", theirs + "\n"), WireGuardPrivateKey.parse(theirs).publicKey().base64());
        }
    }

    private static String run(Path wg, String verb, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(wg.toString(), verb).redirectErrorStream(true).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS), "wg " + verb + " did not finish");
        assertEquals(0, p.exitValue(), "wg " + verb + " failed: " + out);
        return out;
    }
}
