package io.keymesh.schema.keyfile;

/** A key file problem, with a message meant for the operator as it stands. */
public final class KeyFileException extends RuntimeException {
    public KeyFileException(String message) {
        super(message);
    }
}
