package io.keymesh.daemon.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import java.net.URI;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PolicyPlanTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HostTraffic ON = new HostTraffic(true, Exemption.DEFAULTS, HostTraffic.DEFAULT_FIREWALL_MARK,
            HostTraffic.DEFAULT_TABLE, HostTraffic.DEFAULT_RULE_PRIORITY, true);

    /** What iproute2 6.1 ({@code ip -N -j rule show}) printed after the plan's rules were added with {@code ip rule add}. */
    private static final String IP_RULES_V4 = "[{\"priority\":0,\"src\":\"all\",\"table\":\"255\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"ipproto\":\"ipproto-6\",\"dport_start\":2379,\"dport_end\":2380,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"ipproto\":\"ipproto-6\",\"sport_start\":2379,\"sport_end\":2380,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"ipproto\":\"ipproto-6\",\"dport\":6443,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"ipproto\":\"ipproto-6\",\"sport\":6443,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"ipproto\":\"ipproto-17\",\"sport\":51820,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32700,\"src\":\"all\",\"dst\":\"198.51.100.1\",\"ipproto\":\"ipproto-6\",\"dport\":2379,\"goto\":32702,\"protocol\":\"107\"},"
            + "{\"priority\":32701,\"not\":null,\"src\":\"all\",\"fwmark\":\"0x10000000\",\"fwmask\":\"0x10000000\",\"table\":\"19277\",\"protocol\":\"107\"},"
            + "{\"priority\":32702,\"src\":\"all\",\"nop\":null,\"protocol\":\"107\"},"
            + "{\"priority\":32766,\"src\":\"all\",\"table\":\"254\"},{\"priority\":32767,\"src\":\"all\",\"table\":\"253\"}]";
    private static final String IP_ROUTES = "[{\"dst\":\"192.0.2.9\",\"dev\":\"km0\",\"table\":\"19277\",\"scope\":\"253\","
            + "\"prefsrc\":\"192.0.2.1\",\"flags\":[]},"
            + "{\"dst\":\"2001:db8::9\",\"dev\":\"km0\",\"table\":\"19277\",\"metric\":1024,\"flags\":[],\"pref\":\"medium\"}]";
    private static final List<InetAddress> SOURCES = List.of(IpAddresses.parse("192.0.2.1"));

    private static InetAddress ip(String text) {
        return IpAddresses.parse(text);
    }

    @Test
    void whatIpPrintsBackParsesToExactlyThePlanSoAReadNeverChurns() throws Exception {
        List<Exemption> etcd = HostMode.automaticExemptions(List.of(URI.create("http://198.51.100.1:2379")));
        PolicyPlan plan = PolicyPlan.of(ON, etcd, "km0", List.of(ip("192.0.2.9"), ip("2001:db8::9")), SOURCES, 51820, false);
        Set<PolicyRule> read = new HashSet<>();
        for (JsonNode rule : JSON.readTree(IP_RULES_V4)) {
            if (PolicyRule.isOwned(rule)) {
                read.add(PolicyRule.fromJson(false, rule));
            }
        }
        assertEquals(plan.rules(), read);
        Set<HostRoute> routes = new HashSet<>();
        for (JsonNode route : JSON.readTree(IP_ROUTES)) {
            routes.add(HostRoute.fromJson(route, false));
        }
        assertEquals(PolicyPlan.of(ON, etcd, "km0", List.of(ip("192.0.2.9"), ip("2001:db8::9")), SOURCES, 51820, true).routes(), routes);
        assertEquals(Set.of(HostRoute.to(ip("192.0.2.9"), "km0", 19277, ip("192.0.2.1"))), plan.routes(),
                "without IPv6 on the host, its IPv6 peer address gets no route");
    }

    @Test
    void exemptionsJumpOverTheTunnelRuleToALandingRuleAndWireGuardsOwnPacketsAreLeftAlone() {
        PolicyPlan plan = PolicyPlan.of(ON, List.of(), "km0", List.of(ip("192.0.2.9")), List.of(), 51820, true);
        List<String> v4 = plan.rules().stream().filter(r -> !r.ipv6()).map(PolicyRule::toString).sorted().toList();
        assertEquals(List.of(
                "priority 32700 ipproto tcp dport 2379-2380 goto 32702 protocol 107",
                "priority 32700 ipproto tcp dport 6443 goto 32702 protocol 107",
                "priority 32700 ipproto tcp sport 2379-2380 goto 32702 protocol 107",
                "priority 32700 ipproto tcp sport 6443 goto 32702 protocol 107",
                "priority 32700 ipproto udp sport 51820 goto 32702 protocol 107",
                "priority 32701 not fwmark 0x10000000/0x10000000 lookup 19277 protocol 107",
                "priority 32702 nop protocol 107"), v4);
        assertEquals(7, plan.rules().stream().filter(PolicyRule::ipv6).count(), "the same rules for IPv6");
        assertEquals(Set.of(new HostRoute(IpPrefix.parse("192.0.2.9/32"), "km0", 19277, null)), plan.routes(),
                "with no underlay address of its own, the kernel picks the source");
    }

    @Test
    void switchedOffItWantsNothingSoEverythingOwnedIsRemoved() {
        HostTraffic off = new HostTraffic(false, Exemption.DEFAULTS, 1, 100, 1000, false);
        assertEquals(PolicyPlan.NONE, PolicyPlan.of(off, List.of(), "km0", List.of(ip("192.0.2.9")), SOURCES, 51820, true));
    }

    @Test
    void aRuleKeymeshWouldNotWriteIsNotMistakenForOne() throws Exception {
        assertNull(PolicyRule.fromJson(false, JSON.readTree(
                "{\"priority\":32700,\"src\":\"all\",\"iif\":\"eth0\",\"goto\":32702,\"protocol\":\"107\"}")), "an unknown selector");
        assertNull(PolicyRule.fromJson(false, JSON.readTree(
                "{\"priority\":32701,\"src\":\"all\",\"fwmark\":\"0x1\",\"table\":\"19277\",\"protocol\":\"107\"}")), "fwmark without not");
        assertTrue(PolicyRule.isOwned(JSON.readTree("{\"priority\":5,\"nop\":null,\"protocol\":\"107\"}")));
        assertEquals(false, PolicyRule.isOwned(JSON.readTree("{\"priority\":5,\"nop\":null,\"protocol\":\"4\"}")));
    }

    @Test
    void exemptionsParseFromTheirWrittenFormAndBadOnesAreOneClearError() {
        assertEquals(new Exemption(Exemption.Protocol.TCP, 2379, 2380, Exemption.Direction.BOTH, null), Exemption.parse("tcp/2379-2380"));
        assertEquals(new Exemption(Exemption.Protocol.UDP, 53, 53, Exemption.Direction.OUT, null), Exemption.parse("UDP/53:out"));
        for (String bad : new String[] {"tcp", "tcp/0", "tcp/70000", "tcp/9-1", "icmp/1", "tcp/22:sideways", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Exemption.parse(bad), bad);
            assertTrue(e.getMessage().contains("PROTO/PORT") || e.getMessage().contains("ports must be"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new HostTraffic(true, List.of(), 1, 254, 100, false), "main is not ours");
        assertThrows(IllegalArgumentException.class, () -> new HostTraffic(true, List.of(), 1, 100, 32764, false), "after main");
        assertThrows(IllegalArgumentException.class, () -> new HostTraffic(true, List.of(), 0, 100, 100, false), "no mark");
    }

    @Test
    void theDaemonsOwnEtcdEndpointsAreExemptWhenTheyAreAddresses() {
        List<Exemption> automatic = HostMode.automaticExemptions(List.of(URI.create("http://198.51.100.1:22379"),
                URI.create("https://[2001:db8::1]:2379"), URI.create("http://etcd.example:2379"), URI.create("http://198.51.100.1:22379")));
        assertEquals(List.of(Exemption.toService(IpPrefix.parse("198.51.100.1/32"), 22379),
                Exemption.toService(IpPrefix.parse("2001:db8::1/128"), 2379)), automatic);
    }
}
