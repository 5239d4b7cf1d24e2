package io.keymesh.daemon.wireguard;

import static org.junit.jupiter.api.Assertions.fail;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The parsers of what a WireGuard device answers (the control socket's {@code get=1} reply and
 * {@code wg show dump}), fed mutants of valid answers: lines dropped, doubled, swapped or cut,
 * keys and values replaced with odd ones, bytes flipped. Each mutant parses or is rejected with
 * an {@link IllegalArgumentException}; nothing else escapes. Bounded ({@code keymesh.fuzz.mutants},
 * default 3,000 per answer); replay with {@code -Dkeymesh.fuzz.seed=N}.
 */
class DeviceReplyFuzzTest {
    private static final int MUTANTS = Integer.getInteger("keymesh.fuzz.mutants", 3000);
    private static final long SEED = Long.getLong("keymesh.fuzz.seed", System.nanoTime());
    private static final String[] ODD = {"", "-1", "0", "99999999999999999999", "abc", "=", "==", "0x10", " 1", "1 ", "(none)", "off",
            "0".repeat(64), "f".repeat(63), "198.51.100.7:51820", "[2001:db8::1]:0", "[::1", "198.18.0.1/33", "2001:db8::/129",
            "192.0.2.1/-1", "\u0000", "é", "1e3", "NaN"};

    @Test
    void controlSocketRepliesAndWgDumpsParseOrAreRejectedCleanly() {
        System.out.println("DeviceReplyFuzzTest: seed " + SEED + ", " + MUTANTS + " mutants per answer");
        Random random = new Random(SEED);
        WireGuardPrivateKey own = WireGuardPrivateKey.generate();
        WireGuardPublicKey a = WireGuardPrivateKey.generate().publicKey();
        WireGuardPublicKey b = WireGuardPrivateKey.generate().publicKey();
        String reply = "private_key=" + own.toHexSecret() + "\nlisten_port=51820\nfwmark=268435456\n"
                + "public_key=" + a.hex() + "\npreshared_key=" + "0".repeat(64) + "\nprotocol_version=1\n"
                + "endpoint=192.0.2.7:51820\nlast_handshake_time_sec=1795235400\nlast_handshake_time_nsec=5\n"
                + "tx_bytes=10\nrx_bytes=20\npersistent_keepalive_interval=0\nallowed_ip=198.18.0.7/32\nallowed_ip=2001:db8::7/128\n"
                + "public_key=" + b.hex() + "\nendpoint=[2001:db8::9]:51820\nlast_handshake_time_sec=0\npersistent_keepalive_interval=25\n"
                + "allowed_ip=203.0.113.5/24\nerrno=0\n\n";
        String dump = own.toBase64Secret() + "\t" + own.publicKey().base64() + "\t51820\t0x10000000\n"
                + a.base64() + "\t(none)\t192.0.2.1:51820\t198.18.0.1/32,2001:db8::1/128\t1763700000\t100\t200\t25\n"
                + b.base64() + "\t(none)\t(none)\t(none)\t0\t0\t0\toff\n";
        UapiProtocol.parseGet(reply); // the seeds are valid
        WgToolDevice.parseDump(dump);
        fuzz("control socket reply", reply, "\n", "=", UapiProtocol::parseGet, random);
        fuzz("wg show dump", dump, "\n", "\t", WgToolDevice::parseDump, random);
    }

    private static void fuzz(String what, String valid, String lineBreak, String separator, Consumer<String> parser, Random random) {
        for (int i = 0; i < MUTANTS; i++) {
            String mutant = mutate(valid, lineBreak, separator, random);
            try {
                parser.accept(mutant);
            } catch (IllegalArgumentException e) {
                // a clean rejection
            } catch (RuntimeException e) {
                fail(what + " parser let " + e + " escape (seed " + SEED + ") on:\n" + mutant, e);
            }
        }
    }

    private static String mutate(String valid, String lineBreak, String separator, Random random) {
        List<String> lines = new ArrayList<>(List.of(valid.split(lineBreak, -1)));
        int at = random.nextInt(lines.size());
        String line = lines.get(at);
        switch (random.nextInt(7)) {
            case 0 -> lines.remove(at);
            case 1 -> lines.add(at, line);
            case 2 -> lines.add(random.nextInt(lines.size()), lines.remove(at));
            case 3 -> lines.set(at, line.substring(0, random.nextInt(line.length() + 1)));
            case 4 -> {
                // one field (key or value, or a dump column) replaced by an odd one
                String[] fields = line.split(java.util.regex.Pattern.quote(separator), -1);
                fields[random.nextInt(fields.length)] = ODD[random.nextInt(ODD.length)];
                lines.set(at, String.join(separator, fields));
            }
            case 5 -> lines.set(at, ODD[random.nextInt(ODD.length)]);
            default -> {
                char[] chars = line.toCharArray();
                if (chars.length > 0) {
                    chars[random.nextInt(chars.length)] = (char) (32 + random.nextInt(95));
                }
                lines.set(at, new String(chars));
            }
        }
        return String.join(lineBreak, lines);
    }
}
