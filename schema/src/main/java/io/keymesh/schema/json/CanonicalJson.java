package io.keymesh.schema.json;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The canonical encoding that signatures cover: UTF-8 JSON, object keys sorted by their UTF-16
 * code units (as RFC 8785 does), no white space, strings escaped as Jackson's default escaping
 * does. Only integers are allowed as numbers, so no float formatting rule is needed.
 */
public final class CanonicalJson {
    private CanonicalJson() {
    }

    public static byte[] encode(JsonNode tree) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator generator = Json.mapper().getFactory().createGenerator(out)) {
            write(tree, generator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void write(JsonNode node, JsonGenerator out) throws IOException {
        switch (node.getNodeType()) {
            case OBJECT -> {
                List<String> names = new ArrayList<>();
                for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                    names.add(it.next());
                }
                names.sort(null);
                out.writeStartObject();
                for (String name : names) {
                    out.writeFieldName(name);
                    write(node.get(name), out);
                }
                out.writeEndObject();
            }
            case ARRAY -> {
                out.writeStartArray();
                for (JsonNode element : node) {
                    write(element, out);
                }
                out.writeEndArray();
            }
            case STRING -> out.writeString(node.textValue());
            case BOOLEAN -> out.writeBoolean(node.booleanValue());
            case NULL -> out.writeNull();
            case NUMBER -> {
                if (!node.isIntegralNumber()) {
                    throw new MalformedValueException("canonical JSON allows only integer numbers");
                }
                out.writeNumber(node.bigIntegerValue());
            }
            default -> throw new MalformedValueException("cannot encode a " + node.getNodeType() + " node");
        }
    }
}
