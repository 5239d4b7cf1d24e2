package io.keymesh.daemon.host;

import com.fasterxml.jackson.databind.JsonNode;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * One routing policy rule of the kinds keymesh writes, as {@code ip rule} takes it and as
 * {@code ip -N -j rule show} prints it back. Every rule keymesh writes carries {@link #PROTOCOL},
 * which is how it knows its own rules from everyone else's, whatever their priority.
 *
 * @param ipv6      the rule's family
 * @param ipProto   "tcp", "udp" or null for any
 * @param sport     "2379" or "2379-2380", or null
 * @param dport     likewise
 * @param to        destination selector, or null
 * @param notMark   for {@code not fwmark M/M}: the mark (also the mask), or 0 for none
 * @param action    what a match does: {@code lookup <target>}, {@code goto <target>} or {@code nop}
 */
public record PolicyRule(boolean ipv6, int priority, String ipProto, String sport, String dport, IpPrefix to, long notMark,
                         Action action, long target) {
    /** The rule protocol (like a route's) marking rules and routes as keymesh's. */
    public static final int PROTOCOL = 107;

    public enum Action {
        LOOKUP, GOTO, NOP
    }

    /** The JSON fields a rule of keymesh's kinds can have; a rule with any other is not one keymesh wrote as it is now. */
    private static final Set<String> KNOWN = Set.of("priority", "src", "dst", "dstlen", "ipproto", "sport", "sport_start", "sport_end",
            "dport", "dport_start", "dport_end", "not", "fwmark", "fwmask", "table", "goto", "nop", "unresolved", "protocol");

    /** The arguments after {@code ip [-6] rule add} or {@code del}. */
    public List<String> args() {
        List<String> args = new ArrayList<>(List.of("priority", Integer.toString(priority)));
        if (notMark != 0) {
            args.addAll(List.of("not", "fwmark", "0x" + Long.toHexString(notMark) + "/0x" + Long.toHexString(notMark)));
        }
        if (to != null) {
            args.addAll(List.of("to", to.toString()));
        }
        if (ipProto != null) {
            args.addAll(List.of("ipproto", ipProto));
        }
        if (sport != null) {
            args.addAll(List.of("sport", sport));
        }
        if (dport != null) {
            args.addAll(List.of("dport", dport));
        }
        switch (action) {
            case LOOKUP -> args.addAll(List.of("lookup", Long.toString(target)));
            case GOTO -> args.addAll(List.of("goto", Long.toString(target)));
            case NOP -> args.add("nop");
        }
        args.addAll(List.of("protocol", Integer.toString(PROTOCOL)));
        return args;
    }

    /** True for a rule keymesh wrote ({@link #PROTOCOL}), from one element of {@code ip -N -j rule show}. */
    static boolean isOwned(JsonNode rule) {
        return Integer.toString(PROTOCOL).equals(rule.path("protocol").asText());
    }

    /**
     * The rule one element of {@code ip -N -j rule show} describes, or null when it has selectors
     * or an action keymesh never writes (someone changed it, or another version wrote it).
     */
    static PolicyRule fromJson(boolean ipv6, JsonNode rule) {
        for (var names = rule.fieldNames(); names.hasNext(); ) {
            if (!KNOWN.contains(names.next())) {
                return null;
            }
        }
        if (!"all".equals(rule.path("src").asText("all"))) {
            return null;
        }
        IpPrefix to = null;
        if (rule.has("dst")) {
            InetAddress address = IpAddresses.parse(rule.get("dst").asText());
            int full = address.getAddress().length * 8;
            to = IpPrefix.containing(address, rule.path("dstlen").asInt(full));
        }
        long notMark = 0;
        if (rule.has("fwmark")) {
            long mark = Long.decode(rule.get("fwmark").asText());
            long mask = rule.has("fwmask") ? Long.decode(rule.get("fwmask").asText()) : 0xffffffffL;
            if (!rule.has("not") || mark != mask || mark == 0) {
                return null;
            }
            notMark = mark;
        } else if (rule.has("not")) {
            return null;
        }
        Action action;
        long target;
        if (rule.has("nop")) {
            action = Action.NOP;
            target = 0;
        } else if (rule.has("goto")) {
            action = Action.GOTO;
            target = rule.get("goto").asLong();
        } else if (rule.has("table") && rule.get("table").asText().matches("[0-9]+")) {
            action = Action.LOOKUP;
            target = Long.parseLong(rule.get("table").asText());
        } else {
            return null;
        }
        return new PolicyRule(ipv6, rule.path("priority").asInt(), protocolName(rule.path("ipproto").asText(null)),
                ports(rule, "sport"), ports(rule, "dport"), to, notMark, action, target);
    }

    /** "tcp", or "ipproto-6" as {@code -N} prints it, to "tcp". */
    private static String protocolName(String text) {
        if (text == null) {
            return null;
        }
        return switch (text) {
            case "ipproto-6", "6" -> "tcp";
            case "ipproto-17", "17" -> "udp";
            default -> text;
        };
    }

    /** "dport": 6443, or "dport_start"/"dport_end", to "6443" or "2379-2380". */
    private static String ports(JsonNode rule, String field) {
        if (rule.has(field)) {
            return rule.get(field).asText();
        }
        if (rule.has(field + "_start")) {
            int start = rule.get(field + "_start").asInt();
            int end = rule.path(field + "_end").asInt(start);
            return start == end ? Integer.toString(start) : start + "-" + end;
        }
        return null;
    }

    @Override
    public String toString() {
        return (ipv6 ? "-6 " : "") + String.join(" ", args());
    }
}
