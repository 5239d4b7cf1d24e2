package io.keymesh.daemon.host;

import com.fasterxml.jackson.databind.JsonNode;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import java.util.List;

/**
 * A route keymesh keeps in its host-mode table: a peer's underlay address through the WireGuard
 * interface, tagged with {@link PolicyRule#PROTOCOL}.
 *
 * @param device null when an owned route read back has no device (someone changed it)
 * @param source the source address for traffic on the route (this host's own underlay address, so
 *               peers see host traffic come from where it always came from), or null for the
 *               kernel's choice, which would be the interface's overlay address
 */
public record HostRoute(IpPrefix destination, String device, long table, InetAddress source) {
    public static HostRoute to(InetAddress peer, String device, long table, InetAddress source) {
        return new HostRoute(IpPrefix.host(peer), device, table, source);
    }

    public List<String> addArgs() {
        List<String> args = new java.util.ArrayList<>(List.of("route", "add", destination.toString(), "dev", device, "table",
                Long.toString(table), "proto", Integer.toString(PolicyRule.PROTOCOL)));
        if (source != null) {
            args.addAll(List.of("src", IpAddresses.format(source)));
        }
        return args;
    }

    public List<String> delArgs() {
        return List.of("route", "del", destination.toString(), "table", Long.toString(table), "proto",
                Integer.toString(PolicyRule.PROTOCOL));
    }

    /** One element of {@code ip -N -j route show table all proto 107}. */
    static HostRoute fromJson(JsonNode route, boolean ipv6) {
        String dst = route.path("dst").asText();
        IpPrefix destination;
        if (dst.contains("/")) {
            destination = IpPrefix.parse(dst);
        } else if ("default".equals(dst)) {
            destination = IpPrefix.parse(ipv6 ? "::/0" : "0.0.0.0/0");
        } else {
            destination = IpPrefix.host(IpAddresses.parse(dst));
        }
        long table = route.has("table") ? Long.parseLong(route.get("table").asText()) : 254;
        boolean plain = route.path("gateway").isMissingNode() && route.path("nexthops").isMissingNode();
        InetAddress source = route.has("prefsrc") ? IpAddresses.parse(route.get("prefsrc").asText()) : null;
        return new HostRoute(destination, plain ? route.path("dev").asText(null) : null, table, source);
    }
}
