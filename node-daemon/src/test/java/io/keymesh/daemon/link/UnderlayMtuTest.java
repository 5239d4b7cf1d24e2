package io.keymesh.daemon.link;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.schema.record.IpAddresses;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnderlayMtuTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Integer> LINKS = Map.of("eth0", 1480, "eth1", 9000, "km0", 1420);

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }

    @Test
    void theSmallestMtuOnTheWayToAnyPeerCountsWithRouteMtusBeforeLinkMtus() throws Exception {
        JsonNode v4 = json("[{\"dst\":\"default\",\"gateway\":\"192.0.2.254\",\"dev\":\"eth0\"},"
                + "{\"dst\":\"192.0.2.0/24\",\"dev\":\"eth1\"},"
                + "{\"dst\":\"192.0.2.128/25\",\"dev\":\"eth1\",\"metrics\":[{\"mtu\":1400}]},"
                + "{\"dst\":\"198.18.0.0/16\",\"dev\":\"km0\"}]");
        JsonNode v6 = json("[{\"dst\":\"2001:db8::/64\",\"dev\":\"eth0\"}]");
        assertEquals(9000, UnderlayMtu.of(v4, v6, LINKS, List.of(IpAddresses.parse("192.0.2.7")), "km0"), "a jumbo-frame network");
        assertEquals(1400, UnderlayMtu.of(v4, v6, LINKS, List.of(IpAddresses.parse("192.0.2.7"), IpAddresses.parse("192.0.2.200")), "km0"),
                "the longest prefix's route MTU, and the smallest over the peers");
        assertEquals(1480, UnderlayMtu.of(v4, v6, LINKS, List.of(IpAddresses.parse("203.0.113.1"), IpAddresses.parse("192.0.2.7")), "km0"),
                "through the default route");
        JsonNode v6Jumbo = json("[{\"dst\":\"2001:db8::/64\",\"dev\":\"eth1\"}]");
        assertEquals(9000, UnderlayMtu.of(v4, v6Jumbo, LINKS, List.of(IpAddresses.parse("2001:db8::5")), "km0"), "IPv6 routes for IPv6 peers");
        assertEquals(1480, UnderlayMtu.of(v4, v6, LINKS, List.of(IpAddresses.parse("198.18.0.9")), "km0"),
                "never the WireGuard interface's own routes: the default route's instead");
        assertEquals(1480, UnderlayMtu.of(v4, v6, LINKS, List.of(), "km0"), "no peers yet: the default route's");
        assertEquals(UnderlayMtu.FALLBACK, UnderlayMtu.of(json("[]"), json("[]"), LINKS, List.of(), "km0"));
    }
}
