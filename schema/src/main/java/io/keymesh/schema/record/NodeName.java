package io.keymesh.schema.record;

import java.util.regex.Pattern;

/** Node names are DNS labels (RFC 1123, lower case), so they are safe in etcd keys, logs and host names. */
public final class NodeName {
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private NodeName() {
    }

    public static boolean isValid(String name) {
        return name != null && LABEL.matcher(name).matches();
    }

    public static String require(String name) {
        if (name == null) {
            throw new IllegalArgumentException("node name is missing");
        }
        if (!isValid(name)) {
            throw new IllegalArgumentException("invalid node name '" + printable(name)
                    + "': use 1 to 63 lower-case letters, digits or '-', not starting or ending with '-'");
        }
        return name;
    }

    /** Bounded, control-character-free form of untrusted text for an error message. */
    static String printable(String text) {
        String cut = text.length() > 64 ? text.substring(0, 64) + "..." : text;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
