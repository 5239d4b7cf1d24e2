package io.keymesh.schema.record;

import java.util.regex.Pattern;

/** Identifiers of tokens, requests and audit events: short, URL- and etcd-key-safe. */
public final class Ids {
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private Ids() {
    }

    public static boolean isValid(String id) {
        return id != null && ID.matcher(id).matches();
    }

    public static String require(String id, String field) {
        if (!isValid(id)) {
            throw new IllegalArgumentException("invalid " + field + " '" + (id == null ? "" : NodeName.printable(id))
                    + "': use 1 to 128 letters, digits, '.', '_' or '-'");
        }
        return id;
    }
}
