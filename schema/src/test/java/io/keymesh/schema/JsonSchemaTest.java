package io.keymesh.schema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.AuditEventType;
import io.keymesh.schema.record.AuthorityKeyInfo;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeStatus;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.SignedEnrollment;
import io.keymesh.testing.Samples;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every value keymesh writes, hand-written and generated, against the JSON Schemas shipped in the schema module. */
class JsonSchemaTest {
    private static final String BASE = "https://schema.keymesh.invalid/v1/";
    private static final Path EXAMPLES = Path.of("src/test/resources/examples");
    private static final JsonSchemaFactory FACTORY = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.schemaMappers(m -> m.mapPrefix(BASE, "classpath:io/keymesh/schema/json-schema/")));

    /** Each schema and the record type that reads the value. */
    private static final Map<String, Class<?>> SCHEMAS = Map.ofEntries(
            Map.entry("enrollment-result", EnrollmentResult.class),
            Map.entry("node-record", io.keymesh.schema.record.NodeRecord.class),
            Map.entry("enrollment-request", EnrollmentRequest.class),
            Map.entry("join-token", JoinToken.class),
            Map.entry("operator-request", OperatorRequest.class),
            Map.entry("node-status", NodeStatus.class),
            Map.entry("audit-event", AuditEvent.class),
            Map.entry("mesh-config", MeshConfig.class),
            Map.entry("authority-key", AuthorityKeyInfo.class),
            Map.entry("revocation-tombstone", RevocationTombstone.class),
            Map.entry("address-claim", AddressClaim.class));

    private static JsonSchema schema(String name) {
        return FACTORY.getSchema(SchemaLocation.of(BASE + name + ".schema.json"));
    }

    private static Set<ValidationMessage> validate(String schema, byte[] value) {
        return schema(schema).validate(Json.parseObject(value));
    }

    @Test
    void everySchemaFileHasExamplesAndARecordType() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("src/main/resources/io/keymesh/schema/json-schema"))) {
            List<String> names = files.map(p -> p.getFileName().toString().replace(".schema.json", ""))
                    .filter(n -> !n.equals("defs")).sorted().toList();
            assertEquals(SCHEMAS.keySet().stream().sorted().toList(), names);
        }
        for (String name : SCHEMAS.keySet()) {
            assertTrue(Files.isDirectory(EXAMPLES.resolve("valid").resolve(name)), "valid examples for " + name);
            assertTrue(Files.isDirectory(EXAMPLES.resolve("invalid").resolve(name)), "invalid examples for " + name);
        }
    }

    @TestFactory
    Stream<DynamicTest> validExamplesPassTheirSchemaAndBindToTheirRecord() throws IOException {
        return examples("valid").map(file -> DynamicTest.dynamicTest(EXAMPLES.relativize(file).toString(), () -> {
            String name = file.getParent().getFileName().toString();
            byte[] value = Files.readAllBytes(file);
            assertEquals(Set.of(), validate(name, value));
            Json.parse(value, SCHEMAS.get(name));
        }));
    }

    /**
     * Invalid examples the record types read anyway, on purpose: readers ignore unknown fields
     * (a newer writer may add some; in signed values the signature covers them), and the
     * signature fields belong to the signature check, not to the record.
     */
    private static final Set<String> REFUSED_BY_SIGNATURE_CHECK_NOT_BINDING = Set.of(
            "node-record/private-key-field.json", "node-record/no-signature.json",
            "enrollment-request/join-without-proof.json", "enrollment-request/rotation-with-proof.json",
            "join-token/secret-stored.json");

    @TestFactory
    Stream<DynamicTest> invalidExamplesFailTheirSchemaAndTheReaders() throws IOException {
        return examples("invalid").map(file -> DynamicTest.dynamicTest(EXAMPLES.relativize(file).toString(), () -> {
            String name = file.getParent().getFileName().toString();
            byte[] value = Files.readAllBytes(file);
            assertFalse(validate(name, value).isEmpty(), "schema " + name + " accepted " + file);
            if (!REFUSED_BY_SIGNATURE_CHECK_NOT_BINDING.contains(name + "/" + file.getFileName())) {
                assertThrows(io.keymesh.schema.json.MalformedValueException.class, () -> Json.parse(value, SCHEMAS.get(name)),
                        "the " + SCHEMAS.get(name).getSimpleName() + " reader accepted " + file);
            }
        }));
    }

    @Test
    void generatedValuesPassTheirSchemas() {
        Ed25519PrivateKey authority = Ed25519PrivateKey.generate();
        Ed25519PrivateKey identity = Ed25519PrivateKey.generate();
        JoinTokenSecret token = JoinTokenSecret.generate();
        Instant now = Instant.now();
        Map<String, byte[]> generated = new java.util.HashMap<>(Map.of(
                "node-record", AuthoritySignature.sign(Samples.nodeRecord("node-a", 1, 5), authority),
                "enrollment-request", SignedEnrollment.sign(new EnrollmentRequest(Samples.MESH, "node-a", EnrollmentKind.JOIN,
                        identity.publicKey(), WireGuardPrivateKey.generate().publicKey(), List.of(), token.id(), 0, now),
                        identity, token.proofKey()),
                "join-token", line(new JoinToken(token.id(), token.proofKey().publicKey(), null, 3, now.plusSeconds(3600), now)),
                "operator-request", line(OperatorRequest.pending("r1", RequestAction.REVOKE, "node-a", null, now)
                        .completed(RequestStatus.DONE, null, now)),
                "node-status", line(new NodeStatus("node-a", 1, "0.1.0", 42, 3, 2, now)),
                "audit-event", line(new AuditEvent("20261121T043000Z-1", now, AuditEventType.ADMITTED, "node-a", 1, null, null)),
                "mesh-config", AuthoritySignature.sign(new MeshConfig(Samples.MESH,
                        List.of(IpPrefix.parse("198.18.0.0/15"), IpPrefix.parse("2001:db8:1::/64")), 51820, 25, null, now), authority),
                "authority-key", line(new AuthorityKeyInfo(authority.publicKey().keyId(), authority.publicKey(), true, now)),
                "revocation-tombstone", AuthoritySignature.sign(
                        new RevocationTombstone("node-a", identity.publicKey(), 2, "revoked", now), authority),
                "address-claim", line(AddressClaim.of(IpAddresses.parse("2001:db8:1::5"), "node-a"))));
        generated.put("enrollment-result",
                line(new EnrollmentResult("node-a", "0".repeat(64), EnrollmentOutcome.ADMITTED, 1, null, null, now)));
        assertEquals(SCHEMAS.keySet(), generated.keySet());
        generated.forEach((name, value) -> assertEquals(Set.of(), validate(name, value), name + ": " + new String(value)));
    }

    private static byte[] line(Object record) {
        return Json.toLine(Json.toTree(record));
    }

    private static Stream<Path> examples(String kind) throws IOException {
        try (Stream<Path> files = Files.walk(EXAMPLES.resolve(kind))) {
            List<Path> list = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertFalse(list.isEmpty());
            return list.stream();
        }
    }

}
