package io.keymesh.schema.json;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CanonicalJsonTest {

    private static String canonical(String json) {
        return new String(CanonicalJson.encode(Json.parseObject(json.getBytes(StandardCharsets.UTF_8))), StandardCharsets.UTF_8);
    }

    @Test
    void sortsKeysAtEveryLevelAndDropsWhiteSpace() {
        assertEquals("{\"a\":[{\"x\":1,\"y\":2}],\"b\":{\"c\":true,\"d\":null},\"z\":\"s\"}",
                canonical("{ \"z\" : \"s\", \"b\": {\"d\": null, \"c\": true}, \"a\": [ {\"y\": 2, \"x\": 1} ] }"));
    }

    @Test
    void insertionOrderDoesNotMatter() {
        assertArrayEquals(CanonicalJson.encode(Json.parseObject("{\"b\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8))),
                CanonicalJson.encode(Json.parseObject("{\"a\":2,\"b\":1}".getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void keysSortByUtf16CodeUnits() {
        assertEquals("{\"B\":1,\"a\":2,\"é\":3}", canonical("{\"é\":3,\"a\":2,\"B\":1}"));
    }

    @Test
    void writesUtf8AndEscapesControlCharacters() {
        byte[] encoded = CanonicalJson.encode(Json.parseObject("{\"k\":\"ü\\n\"}".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals("{\"k\":\"ü\\n\"}".getBytes(StandardCharsets.UTF_8), encoded);
    }

    @Test
    void refusesNonIntegerNumbers() {
        assertThrows(MalformedValueException.class, () -> canonical("{\"x\":1.5}"));
    }

    @Test
    void parserRefusesDuplicateKeysTrailingDataAndNonObjects() {
        assertThrows(MalformedValueException.class, () -> Json.parseObject("{\"a\":1,\"a\":2}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(MalformedValueException.class, () -> Json.parseObject("{\"a\":1} {}".getBytes(StandardCharsets.UTF_8)));
        assertThrows(MalformedValueException.class, () -> Json.parseObject("[1]".getBytes(StandardCharsets.UTF_8)));
        assertThrows(MalformedValueException.class, () -> Json.parseObject("{\"a\":".getBytes(StandardCharsets.UTF_8)));
        assertThrows(MalformedValueException.class, () -> Json.parseObject(new byte[Json.MAX_VALUE_BYTES + 1]));
    }
}
