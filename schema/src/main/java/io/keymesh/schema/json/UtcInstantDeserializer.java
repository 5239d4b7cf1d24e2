package io.keymesh.schema.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * Instants only as ISO 8601 text in UTC ({@code 2026-11-21T04:30:00Z}, optional fraction): no
 * offsets, no epoch numbers, so one instant has one text in every signed value.
 */
final class UtcInstantDeserializer extends StdScalarDeserializer<Instant> {
    private static final Pattern UTC = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z");

    UtcInstantDeserializer() {
        super(Instant.class);
    }

    @Override
    public Instant deserialize(JsonParser parser, DeserializationContext context) throws IOException {
        if (parser.currentToken() != JsonToken.VALUE_STRING) {
            return (Instant) context.handleUnexpectedToken(Instant.class, parser);
        }
        String text = parser.getText();
        if (!UTC.matcher(text).matches()) {
            throw new IllegalArgumentException("time '" + text + "' is not UTC ISO 8601 like 2026-11-21T04:30:00Z");
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("time '" + text + "' is not a valid instant");
        }
    }
}
