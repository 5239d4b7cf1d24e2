package io.keymesh.schema.json;

/** A value that is not the JSON it should be: oversized, unparsable, or failing a field rule. */
public final class MalformedValueException extends IllegalArgumentException {
    public MalformedValueException(String message) {
        super(message);
    }
}
