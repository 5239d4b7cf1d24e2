package io.keymesh.schema.json;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The one JSON configuration of keymesh. Every etcd value is one line of JSON; this class turns
 * bytes into trees and records and back, and refuses anything oversized or malformed with one
 * {@link MalformedValueException} that says what is wrong.
 */
public final class Json {
    /** Upper bound for any single etcd value keymesh reads; real values are well under 4 KiB. */
    public static final int MAX_VALUE_BYTES = 64 * 1024;

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .addModule(new JavaTimeModule())
            .addModule(new SimpleModule("keymesh-utc-instants").addDeserializer(Instant.class, new UtcInstantDeserializer()))
            // Values are read as strictly as the JSON Schemas describe them: "7" is not a number,
            // 7 is not a string, and nothing else is quietly converted either.
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .withCoercionConfig(LogicalType.Textual, c -> c
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Enum, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail))
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            // A newer authority may add fields during a rolling upgrade; they are still covered by
            // the signature, which is checked over the tree as stored, never over a re-encoding.
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .build();

    static {
        MAPPER.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(32)
                .maxStringLength(MAX_VALUE_BYTES)
                .maxNumberLength(32)
                .build());
    }

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Parses one etcd value that must be a JSON object. */
    public static ObjectNode parseObject(byte[] value) {
        if (value.length > MAX_VALUE_BYTES) {
            throw new MalformedValueException(
                    "value is " + value.length + " bytes, more than the limit of " + MAX_VALUE_BYTES);
        }
        JsonNode tree;
        try (JsonParser parser = MAPPER.createParser(value)) {
            tree = MAPPER.readTree(parser);
            if (parser.nextToken() != null) {
                throw new MalformedValueException("trailing data after the JSON value");
            }
        } catch (JsonProcessingException e) {
            throw new MalformedValueException("not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new MalformedValueException("not readable as JSON: " + e.getMessage());
        }
        if (tree == null || !tree.isObject()) {
            throw new MalformedValueException("value is not a JSON object");
        }
        requireIntegers(tree);
        return (ObjectNode) tree;
    }

    /** Keymesh values hold integers only; a fraction anywhere makes the value malformed. */
    private static void requireIntegers(JsonNode node) {
        if (node.isNumber() && !node.isIntegralNumber()) {
            throw new MalformedValueException("non-integer number " + node.asText() + " (keymesh values hold integers only)");
        }
        for (JsonNode child : node) {
            requireIntegers(child);
        }
    }

    /** Binds a tree to a record type, turning every binding or validation failure into one message. */
    public static <T> T bind(JsonNode tree, Class<T> type) {
        try {
            return MAPPER.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            Throwable cause = e.getCause();
            String reason = cause instanceof IllegalArgumentException ? cause.getMessage() : e.getOriginalMessage();
            throw new MalformedValueException("not a valid " + type.getSimpleName() + ": " + reason);
        } catch (IllegalArgumentException e) {
            throw new MalformedValueException("not a valid " + type.getSimpleName() + ": " + e.getMessage());
        }
    }

    public static <T> T parse(byte[] value, Class<T> type) {
        return bind(parseObject(value), type);
    }

    public static ObjectNode toTree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** One line of compact JSON, the form every value takes in etcd. */
    public static byte[] toLine(JsonNode tree) {
        try {
            return MAPPER.writeValueAsBytes(tree);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree always serializes", e);
        }
    }

    public static String toLineString(JsonNode tree) {
        return new String(toLine(tree), StandardCharsets.UTF_8);
    }
}
