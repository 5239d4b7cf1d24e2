package io.keymesh.schema.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.AuthorityKeyInfo;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeStatus;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.schema.verify.RejectedValueException;
import io.keymesh.schema.verify.SignedEnrollment;
import io.keymesh.testing.Samples;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every reader of an etcd value, fed mutants of valid values (bytes flipped, inserted, cut;
 * fields removed, renamed, duplicated, or given values of every JSON type, huge numbers, long
 * and odd strings, deep nesting): each mutant is accepted or rejected with
 * {@link MalformedValueException} or {@link RejectedValueException}, and nothing else ever
 * escapes. Bounded for CI ({@code keymesh.fuzz.mutants} per value, default 1,500); the seed is
 * printed and can be replayed with {@code -Dkeymesh.fuzz.seed=N}.
 */
class ValueFuzzTest {
    private static final int MUTANTS = Integer.getInteger("keymesh.fuzz.mutants", 1500);
    private static final long SEED = Long.getLong("keymesh.fuzz.seed", System.nanoTime());
    private static final Ed25519PrivateKey AUTHORITY = Ed25519PrivateKey.generate();
    private static final TrustedKeys TRUSTED = TrustedKeys.of(AUTHORITY.publicKey());
    private static final Map<String, Class<?>> TYPES = Map.ofEntries(
            Map.entry("enrollment-result", EnrollmentResult.class), Map.entry("node-record", NodeRecord.class),
            Map.entry("enrollment-request", EnrollmentRequest.class), Map.entry("join-token", JoinToken.class),
            Map.entry("operator-request", OperatorRequest.class), Map.entry("node-status", NodeStatus.class),
            Map.entry("audit-event", AuditEvent.class), Map.entry("mesh-config", MeshConfig.class),
            Map.entry("authority-key", AuthorityKeyInfo.class), Map.entry("revocation-tombstone", RevocationTombstone.class),
            Map.entry("address-claim", AddressClaim.class));

    /** A reader of one kind of value; it may throw only the two clean rejections. */
    private interface Reader {
        void read(byte[] value) throws RejectedValueException;
    }

    @Test
    void everyReaderOfEveryValueRejectsMutantsCleanly() throws Exception {
        System.out.println("ValueFuzzTest: seed " + SEED + ", " + MUTANTS + " mutants per value");
        Random random = new Random(SEED);
        Map<String, List<byte[]>> seeds = examples();
        Map<String, byte[]> signed = signed();
        NodeRecordCheck nodes = new NodeRecordCheck(new KeyLayout(KeyLayout.DEFAULT_PREFIX), TRUSTED, Samples.MESH);
        int checked = 0;
        for (Map.Entry<String, List<byte[]>> entry : seeds.entrySet()) {
            String name = entry.getKey();
            Class<?> type = TYPES.get(name);
            Reader parse = value -> Json.parse(value, type);
            List<Reader> readers = new ArrayList<>(List.of(parse));
            switch (name) {
                case "node-record" -> {
                    readers.add(value -> nodes.verify(KeyLayout.DEFAULT_PREFIX + "/nodes/node-a", value));
                    readers.add(value -> AuthoritySignature.verify(value, NodeRecord.class, TRUSTED));
                }
                case "mesh-config" -> readers.add(value -> AuthoritySignature.verify(value, MeshConfig.class, TRUSTED));
                case "revocation-tombstone" -> readers.add(value -> AuthoritySignature.verify(value, RevocationTombstone.class, TRUSTED));
                case "enrollment-request" -> readers.add(SignedEnrollment::verify);
                default -> {
                }
            }
            List<byte[]> values = new ArrayList<>(entry.getValue());
            if (signed.containsKey(name)) {
                values.add(signed.get(name));
            }
            for (byte[] valid : values) {
                // The examples are signed by a key nobody trusts: only the signed seeds go through the signature checks.
                List<Reader> these = valid == signed.get(name) ? readers : List.of(parse);
                for (Reader reader : these) {
                    reader.read(valid); // the seed itself is valid: otherwise the mutants prove little
                }
                for (int i = 0; i < MUTANTS; i++) {
                    byte[] mutant = mutate(valid, random);
                    for (Reader reader : these) {
                        try {
                            reader.read(mutant);
                        } catch (MalformedValueException | RejectedValueException e) {
                            // a clean rejection
                        } catch (RuntimeException | StackOverflowError e) {
                            fail(name + " reader let " + e + " escape (seed " + SEED + ") on: "
                                    + printable(mutant), e);
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked >= TYPES.size() * MUTANTS, "every type was fuzzed: " + checked);
    }

    /** Valid values of every type: the examples shipped with the schemas. */
    private static Map<String, List<byte[]>> examples() throws Exception {
        Map<String, List<byte[]>> seeds = new LinkedHashMap<>();
        for (String name : TYPES.keySet()) {
            List<byte[]> values = new ArrayList<>();
            try (var files = Files.list(Path.of("src/test/resources/examples/valid", name))) {
                for (Path file : files.sorted().toList()) {
                    values.add(Json.toLine(Json.parseObject(Files.readAllBytes(file))));
                }
            }
            seeds.put(name, values);
        }
        return seeds;
    }

    /** Values signed now, by the trusted authority key or (a request) by its identity. */
    private static Map<String, byte[]> signed() {
        Map<String, byte[]> seeds = new LinkedHashMap<>();
        Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
        JoinTokenSecret token = JoinTokenSecret.generate();
        Instant now = Instant.now();
        seeds.put("node-record", AuthoritySignature.sign(Samples.nodeRecord("node-a", 1, 5), AUTHORITY));
        seeds.put("mesh-config", AuthoritySignature.sign(new MeshConfig(Samples.MESH,
                List.of(IpPrefix.parse("198.18.0.0/15"), IpPrefix.parse("2001:db8:1::/64")), 51820, 25, 1420, now), AUTHORITY));
        seeds.put("revocation-tombstone", AuthoritySignature.sign(
                new RevocationTombstone("node-a", identity.publicKey(), 2, "revoked", now), AUTHORITY));
        seeds.put("enrollment-request", SignedEnrollment.sign(new EnrollmentRequest(Samples.MESH, "node-a", EnrollmentKind.JOIN,
                identity.publicKey(), WireGuardPrivateKey.generate().publicKey(), List.of(), token.id(), 0, now), identity, token.proofKey()));
        return seeds;
    }

    private static byte[] mutate(byte[] valid, Random random) {
        return random.nextInt(3) == 0 ? mutateBytes(valid, random) : mutateTree(valid, random);
    }

    private static byte[] mutateBytes(byte[] valid, Random random) {
        byte[] out = valid.clone();
        int at = random.nextInt(out.length);
        switch (random.nextInt(5)) {
            case 0 -> out[at] = (byte) random.nextInt(256);
            case 1 -> out[at] ^= (byte) (1 << random.nextInt(8));
            case 2 -> out = java.util.Arrays.copyOf(out, at);
            case 3 -> {
                byte[] longer = new byte[out.length + 1];
                System.arraycopy(out, 0, longer, 0, at);
                byte[] syntax = "{}[]\",:\\0-e.1\u0000".getBytes(StandardCharsets.ISO_8859_1);
                longer[at] = syntax[random.nextInt(syntax.length)];
                System.arraycopy(out, at, longer, at + 1, out.length - at);
                out = longer;
            }
            default -> {
                int end = Math.min(out.length, at + 1 + random.nextInt(16));
                byte[] shorter = new byte[out.length - (end - at)];
                System.arraycopy(out, 0, shorter, 0, at);
                System.arraycopy(out, end, shorter, at, out.length - end);
                out = shorter;
            }
        }
        return out;
    }

    private static byte[] mutateTree(byte[] valid, Random random) {
        ObjectNode root = Json.parseObject(valid);
        List<ObjectNode> objects = new ArrayList<>();
        collect(root, objects);
        ObjectNode target = objects.get(random.nextInt(objects.size()));
        List<String> fields = new ArrayList<>();
        for (Iterator<String> names = target.fieldNames(); names.hasNext(); ) {
            fields.add(names.next());
        }
        String field = fields.isEmpty() ? "x" : fields.get(random.nextInt(fields.size()));
        switch (random.nextInt(4)) {
            case 0 -> target.remove(field);
            case 1 -> target.set(field.isEmpty() ? "x" : field + random.nextInt(3), target.get(field));
            case 2 -> target.set("unexpected" + random.nextInt(3), oddValue(random));
            default -> target.set(field, oddValue(random));
        }
        return Json.toLine(root);
    }

    private static void collect(JsonNode node, List<ObjectNode> objects) {
        if (node instanceof ObjectNode object) {
            objects.add(object);
        }
        node.forEach(child -> collect(child, objects));
    }

    /** A value of any JSON type, at the edges: huge and negative numbers, long and odd strings, deep nesting. */
    private static JsonNode oddValue(Random random) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (random.nextInt(14)) {
            case 0 -> f.nullNode();
            case 1 -> f.booleanNode(random.nextBoolean());
            case 2 -> f.numberNode(random.nextLong());
            case 3 -> f.numberNode(new java.math.BigInteger("9".repeat(1 + random.nextInt(30))));
            case 4 -> f.numberNode(-1 - random.nextInt(3));
            case 5 -> f.numberNode(0);
            case 6 -> f.textNode("");
            case 7 -> f.textNode("x".repeat(random.nextInt(70_000)));
            case 8 -> f.textNode("198.51.100.7:51820\u0000\n\u202e" + random.nextInt());
            case 9 -> f.textNode(new String(new int[] {0x1F600, 0xD7FF, 0xE000}, 0, 3) + "::1/129");
            case 10 -> f.arrayNode().add(f.textNode("192.0.2.1/32")).add(f.nullNode());
            case 11 -> f.objectNode().put("type", "node-record");
            case 12 -> {
                ArrayNode deep = f.arrayNode();
                ArrayNode at = deep;
                for (int i = 0; i < 40; i++) {
                    at = at.addArray();
                }
                yield deep;
            }
            default -> f.textNode(Instant.ofEpochSecond(random.nextLong() % 400_000_000_000L).toString());
        };
    }

    private static String printable(byte[] value) {
        String text = new String(value, StandardCharsets.UTF_8);
        return text.length() > 600 ? text.substring(0, 600) + "..." : text;
    }
}
