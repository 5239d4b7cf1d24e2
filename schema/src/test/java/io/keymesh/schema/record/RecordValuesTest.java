package io.keymesh.schema.record;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.testing.Samples;
import java.math.BigInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class RecordValuesTest {

    @ParameterizedTest
    @CsvSource({
        "2001:db8:0:0:0:0:0:1, 2001:db8::1",
        "2001:0db8:0000:0001:0000:0000:0000:0001, 2001:db8:0:1::1",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "0:0:0:0:0:0:0:0, ::",
        "2001:db8:1:1:1:1:1:0, 2001:db8:1:1:1:1:1:0",
        "198.51.100.001, ",
        "203.0.113.9, 203.0.113.9"})
    void addressesFormatCanonically(String input, String expected) {
        if (expected == null) {
            assertThrows(IllegalArgumentException.class, () -> IpAddresses.parse(input));
        } else {
            assertEquals(expected, IpAddresses.format(IpAddresses.parse(input)));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"localhost", "example.com", "1.2.3", "::ffff:192.0.2.1", "fe80::1%eth0", "", "256.1.1.1"})
    void namesAndOddFormsAreNotAddresses(String text) {
        assertThrows(IllegalArgumentException.class, () -> IpAddresses.parse(text));
    }

    @Test
    void aNodeRecordWrittenBeforeSerialsExistedReadsAsSerialEqualToItsEpoch() {
        String withoutSerial = "{\"type\":\"node-record\",\"mesh\":\"prod\",\"node\":\"db-1\",\"epoch\":3,\"state\":\"active\","
                + "\"identityKey\":\"T2rjY7cXM5hODiwKQwA/qzpJONB5VzwanmgQg+y1Rs4=\",\"wgPublicKey\":\"RXoElB3PmEKxJRiCNjFbMJIzLo/j7qxto70VuBlFfzo=\","
                + "\"endpoints\":[],\"addresses\":[],\"allowedIps\":[],\"keyIssuedAt\":\"2026-11-20T10:00:00Z\","
                + "\"issuedAt\":\"2026-11-21T04:30:00Z\"}";
        NodeRecord record = Json.parse(withoutSerial.getBytes(java.nio.charset.StandardCharsets.UTF_8), NodeRecord.class);
        assertEquals(3, record.serial());
        assertFalse(record.isRotationRequested());
    }

    @Test
    void prefixesRequireZeroHostBitsAndCanAllocate() {
        IpPrefix net = IpPrefix.parse("198.18.0.0/15");
        assertTrue(net.contains(IpAddresses.parse("198.19.255.255")));
        assertFalse(net.contains(IpAddresses.parse("198.20.0.0")));
        assertEquals("198.18.1.0", IpAddresses.format(net.addressAt(BigInteger.valueOf(256))));
        assertThrows(IllegalArgumentException.class, () -> net.addressAt(BigInteger.ONE.shiftLeft(17)));
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("198.18.0.1/15"));
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.parse("198.18.0.0/33"));
        assertEquals("2001:db8::/32", IpPrefix.parse("2001:db8:0::/32").toString());
    }

    @Test
    void theContainingPrefixClearsHostBits() {
        assertEquals("203.0.113.0/24", IpPrefix.containing(IpAddresses.parse("203.0.113.77"), 24).toString());
        assertEquals("2001:db8:ff::/48", IpPrefix.containing(IpAddresses.parse("2001:db8:ff:1::9"), 48).toString());
        assertEquals("198.18.0.7/32", IpPrefix.containing(IpAddresses.parse("198.18.0.7"), 32).toString());
        assertEquals("0.0.0.0/0", IpPrefix.containing(IpAddresses.parse("192.0.2.1"), 0).toString());
        assertThrows(IllegalArgumentException.class, () -> IpPrefix.containing(IpAddresses.parse("192.0.2.1"), 33));
    }

    @Test
    void endpointsAcceptIpLiteralsOnly() {
        assertEquals("[2001:db8::7]:51820", Endpoint.parse("[2001:db8:0::7]:51820").toString());
        assertEquals("192.0.2.7:51820", Endpoint.parse("192.0.2.7:51820").toString());
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("host.example:51820"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("2001:db8::7:51820"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("192.0.2.7:0"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("192.0.2.7"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "node-1", "0", "a-b-c"})
    void validNodeNames(String name) {
        assertTrue(NodeName.isValid(name));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-a", "a-", "A", "a_b", "a.b", "a/b"})
    void invalidNodeNames(String name) {
        assertFalse(NodeName.isValid(name));
    }

    @Test
    void aNodeNameLongerThan63IsRefused() {
        assertTrue(NodeName.isValid("a".repeat(63)));
        assertFalse(NodeName.isValid("a".repeat(64)));
    }

    @Test
    void nodeRecordRoundTripsThroughJson() {
        NodeRecord record = Samples.nodeRecord("node-a", 3, 7);
        assertEquals(record, Json.parse(Json.toLine(Json.toTree(record)), NodeRecord.class));
    }

    @Test
    void bindingReportsTheBrokenFieldInOneLine() {
        String json = new String(Json.toLine(Json.toTree(Samples.nodeRecord("node-a", 1, 1))))
                .replace("\"node\":\"node-a\"", "\"node\":\"Node_A\"");
        MalformedValueException e = assertThrows(MalformedValueException.class, () -> Json.parse(json.getBytes(), NodeRecord.class));
        assertTrue(e.getMessage().startsWith("not a valid NodeRecord: invalid node name 'Node_A'"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aMissingFieldIsNamed() {
        String json = new String(Json.toLine(Json.toTree(Samples.nodeRecord("node-a", 1, 1))))
                .replaceAll("\"wgPublicKey\":\"[^\"]+\",", "");
        MalformedValueException e = assertThrows(MalformedValueException.class, () -> Json.parse(json.getBytes(), NodeRecord.class));
        assertEquals("not a valid NodeRecord: wgPublicKey is missing", e.getMessage());
    }

    private static String sampleJson() {
        return new String(Json.toLine(Json.toTree(Samples.nodeRecord("node-a", 3, 1))), java.nio.charset.StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"epoch\":3 | \"epoch\":\"3\"",
        "\"epoch\":3 | \"epoch\":true",
        "\"node\":\"node-a\" | \"node\":5",
        "\"state\":\"active\" | \"state\":0",
        "\"issuedAt\":\"2026-11-21T04:30:00Z\" | \"issuedAt\":\"2026-11-21T05:30:00+01:00\"",
        "\"issuedAt\":\"2026-11-21T04:30:00Z\" | \"issuedAt\":1795235400",
        "\"issuedAt\":\"2026-11-21T04:30:00Z\" | \"issuedAt\":\"2026-11-21T04:30:00\"",
        "\"endpoints\":[\"192.0.2.1:51820\"] | \"endpoints\":[\"192.0.2.1:+51820\"]",
        "\"endpoints\":[\"192.0.2.1:51820\"] | \"endpoints\":[\"192.0.2.1:051820\"]",
        "\"endpoints\":[\"192.0.2.1:51820\"] | \"endpoints\":[\"[192.0.2.1]:51820\"]",
        "\"addresses\":[\"198.18.0.1/32\"] | \"addresses\":[\"198.18.0.1/+32\"]",
        "\"addresses\":[\"198.18.0.1/32\"] | \"addresses\":[\"198.18.0.1/٣٢\"]"})
    void readersRefuseWhatTheSchemasRefuse(String valid, String invalid) {
        String json = sampleJson();
        assertTrue(json.contains(valid), json);
        assertThrows(MalformedValueException.class, () -> Json.parse(json.replace(valid, invalid).getBytes(), NodeRecord.class),
                invalid);
    }

    @Test
    void aPublicKeyWithWhiteSpaceIsRefusedInJsonButPrivateKeyFilesMayEndInANewline() {
        NodeRecord record = Samples.nodeRecord("node-a", 3, 1);
        String key = record.wgPublicKey().base64();
        String json = new String(Json.toLine(Json.toTree(record)), java.nio.charset.StandardCharsets.UTF_8).replace(key, " " + key);
        assertTrue(json.contains(" " + key));
        assertThrows(MalformedValueException.class, () -> Json.parse(json.getBytes(), NodeRecord.class));
        io.keymesh.schema.crypto.WireGuardPrivateKey privateKey = io.keymesh.schema.crypto.WireGuardPrivateKey.generate();
        assertEquals(privateKey.publicKey(),
                io.keymesh.schema.crypto.WireGuardPrivateKey.parse(privateKey.toBase64Secret() + "\n").publicKey());
    }
}
