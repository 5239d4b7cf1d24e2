package io.keymesh.daemon.host;

import io.keymesh.schema.record.IpPrefix;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The routing policy host mode wants, for both address families. Pure. With priorities P, P+1
 * and P+2 from {@link HostTraffic#rulePriority()}:
 * <ul>
 *   <li>P: each exemption, {@code goto P+2};</li>
 *   <li>P+1: {@code not fwmark M/M lookup T}, which sends everything but WireGuard's own marked
 *       packets to table T, where only the peers' underlay addresses have routes (so all other
 *       traffic falls through to the rules after it, untouched);</li>
 *   <li>P+2: {@code nop}, the landing rule for exempt packets, which then go on through the rest
 *       of the policy exactly as if keymesh were not there.</li>
 * </ul>
 * An exemption jumps over the tunnel rule instead of looking up {@code main} itself, so a host
 * whose underlay routes live in some other table keeps using them.
 */
public record PolicyPlan(Set<PolicyRule> rules, Set<HostRoute> routes) {
    public static final PolicyPlan NONE = new PolicyPlan(Set.of(), Set.of());

    public PolicyPlan {
        rules = Set.copyOf(rules);
        routes = Set.copyOf(routes);
    }

    /**
     * @param automatic exemptions the daemon adds itself (its own etcd endpoints)
     * @param peers     the peers' underlay addresses; each gets a route through {@code device}
     * @param sources   this host's own underlay addresses: a route to a peer of the same family
     *                  sends from the first of them
     * @param ipv6      whether the host has IPv6 at all (no IPv6 rules otherwise)
     */
    public static PolicyPlan of(HostTraffic settings, List<Exemption> automatic, String device, Collection<InetAddress> peers,
                                Collection<InetAddress> sources, int listenPort, boolean ipv6) {
        if (!settings.enabled()) {
            return NONE;
        }
        Set<PolicyRule> rules = new LinkedHashSet<>();
        List<Exemption> exemptions = new ArrayList<>(settings.exemptions());
        exemptions.addAll(automatic);
        // WireGuard's own packets from the peers, as strict reverse-path filtering looks them up
        // (to the peer, from our listen port): without this, that lookup finds the tunnel and the
        // kernel drops every packet that would open it.
        exemptions.add(new Exemption(Exemption.Protocol.UDP, listenPort, listenPort, Exemption.Direction.IN, null));
        int p = settings.rulePriority();
        for (boolean v6 : ipv6 ? new boolean[] {false, true} : new boolean[] {false}) {
            for (Exemption e : exemptions) {
                IpPrefix to = e.destination();
                if (to != null && to.isIpv4() == v6) {
                    continue;
                }
                String proto = e.protocol().ipName();
                String ports = e.fromPort() == e.toPort() ? Integer.toString(e.fromPort()) : e.fromPort() + "-" + e.toPort();
                if (e.covers(Exemption.Direction.OUT)) {
                    rules.add(new PolicyRule(v6, p, proto, null, ports, to, 0, PolicyRule.Action.GOTO, p + 2));
                }
                if (e.covers(Exemption.Direction.IN)) {
                    rules.add(new PolicyRule(v6, p, proto, ports, null, to, 0, PolicyRule.Action.GOTO, p + 2));
                }
            }
            rules.add(new PolicyRule(v6, p + 1, null, null, null, null, settings.firewallMark(), PolicyRule.Action.LOOKUP, settings.table()));
            rules.add(new PolicyRule(v6, p + 2, null, null, null, null, 0, PolicyRule.Action.NOP, 0));
        }
        Set<HostRoute> routes = new LinkedHashSet<>();
        for (InetAddress peer : peers) {
            boolean v6 = peer instanceof Inet6Address;
            if (ipv6 || !v6) {
                InetAddress source = sources.stream().filter(s -> (s instanceof Inet6Address) == v6).findFirst().orElse(null);
                routes.add(HostRoute.to(peer, device, settings.table(), source));
            }
        }
        return new PolicyPlan(rules, routes);
    }

    /**
     * The order that never leaves a window where traffic is captured but cannot pass: to add,
     * routes first, then the landing rule, the exemptions, and the tunnel rule last; to delete,
     * the reverse.
     */
    static int addOrder(PolicyRule rule) {
        return switch (rule.action()) {
            case NOP -> 0;
            case GOTO -> 1;
            case LOOKUP -> 2;
        };
    }
}
