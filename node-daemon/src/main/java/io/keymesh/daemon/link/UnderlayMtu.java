package io.keymesh.daemon.link;

import com.fasterxml.jackson.databind.JsonNode;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Collection;
import java.util.Map;

/**
 * The underlay MTU WireGuard's packets to the peers see: for each peer address, the MTU of the
 * main-table route that carries it (its {@code mtu} attribute, else its device's MTU); the
 * smallest of these, because one interface MTU serves every peer. With no peers, the default
 * route's. Pure: it works on what {@code ip -j route} and {@code ip -j link} printed.
 * ({@code wg-quick} takes the largest instead; the smallest never makes a packet to any peer
 * fragment.)
 */
public final class UnderlayMtu {
    public static final int FALLBACK = 1500;

    private UnderlayMtu() {
    }

    /**
     * @param v4Routes   {@code ip -j route show table main}
     * @param v6Routes   {@code ip -j -6 route show table main}
     * @param linkMtus   interface name to MTU
     * @param exclude    the WireGuard interface itself (its routes carry no WireGuard packets)
     */
    public static int of(Iterable<JsonNode> v4Routes, Iterable<JsonNode> v6Routes, Map<String, Integer> linkMtus,
                         Collection<InetAddress> peers, String exclude) {
        int smallest = Integer.MAX_VALUE;
        for (InetAddress peer : peers) {
            boolean v6 = peer instanceof Inet6Address;
            int mtu = mtuOf(best(v6 ? v6Routes : v4Routes, peer, v6, exclude), linkMtus);
            if (mtu > 0) {
                smallest = Math.min(smallest, mtu);
            }
        }
        if (smallest == Integer.MAX_VALUE) {
            for (JsonNode route : v4Routes) {
                if ("default".equals(route.path("dst").asText()) && !exclude.equals(route.path("dev").asText())) {
                    int mtu = mtuOf(route, linkMtus);
                    if (mtu > 0) {
                        return mtu;
                    }
                }
            }
            return FALLBACK;
        }
        return smallest;
    }

    /** The longest-prefix match for {@code peer}, or null. */
    private static JsonNode best(Iterable<JsonNode> routes, InetAddress peer, boolean v6, String exclude) {
        JsonNode best = null;
        int bestLength = -1;
        for (JsonNode route : routes) {
            if (exclude.equals(route.path("dev").asText()) || !route.path("type").asText("unicast").equals("unicast")) {
                continue;
            }
            IpPrefix prefix = prefix(route.path("dst").asText(), v6);
            if (prefix != null && prefix.isIpv4() != v6 && prefix.contains(peer) && prefix.length() > bestLength) {
                best = route;
                bestLength = prefix.length();
            }
        }
        return best;
    }

    private static IpPrefix prefix(String dst, boolean v6) {
        try {
            if ("default".equals(dst)) {
                return IpPrefix.parse(v6 ? "::/0" : "0.0.0.0/0");
            }
            if (dst.contains("/")) {
                return IpPrefix.parse(dst);
            }
            return IpPrefix.host(IpAddresses.parse(dst));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static int mtuOf(JsonNode route, Map<String, Integer> linkMtus) {
        if (route == null) {
            return 0;
        }
        for (JsonNode metric : route.path("metrics")) {
            if (metric.has("mtu")) {
                return metric.get("mtu").asInt();
            }
        }
        return linkMtus.getOrDefault(route.path("dev").asText(), 0);
    }
}
