package io.keymesh.daemon.host;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.daemon.exec.Exec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads and changes keymesh's own part of the routing policy with {@code ip}: the rules and
 * routes tagged {@link PolicyRule#PROTOCOL}, and nothing else. Changes go in as one
 * {@code ip -batch} per family.
 */
public final class RoutingPolicy {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * keymesh's rules and routes as the kernel has them.
     *
     * @param strays owned rules keymesh would not write as they are: deleted by priority
     */
    public record Installed(Set<PolicyRule> rules, Set<HostRoute> routes, List<PolicyStray> strays) {
        public static final Installed NONE = new Installed(Set.of(), Set.of(), List.of());
    }

    /** An owned rule in a shape keymesh does not write (edited by hand, or left by another version). */
    public record PolicyStray(boolean ipv6, int priority) {
    }

    /** Whether this host has IPv6 at all (a kernel booted with ipv6.disable=1 has no IPv6 rules to read). */
    public static boolean hasIpv6() {
        return Files.exists(Path.of("/proc/sys/net/ipv6"));
    }

    /** Every address on this host's interfaces. */
    public static Set<java.net.InetAddress> localAddresses() throws IOException {
        Set<java.net.InetAddress> local = new HashSet<>();
        String out = Exec.check("ip", "-j", "address", "show");
        for (JsonNode link : JSON.readTree(out.isBlank() ? "[]" : out)) {
            for (JsonNode address : link.path("addr_info")) {
                try {
                    local.add(io.keymesh.schema.record.IpAddresses.parse(address.path("local").asText()));
                } catch (IllegalArgumentException e) {
                    // not an address we could route from
                }
            }
        }
        return local;
    }

    public Installed read(boolean ipv6) throws IOException {
        Set<PolicyRule> rules = new HashSet<>();
        Set<HostRoute> routes = new HashSet<>();
        List<PolicyStray> strays = new ArrayList<>();
        for (boolean v6 : ipv6 ? new boolean[] {false, true} : new boolean[] {false}) {
            for (JsonNode rule : json(v6, "rule", "show")) {
                if (PolicyRule.isOwned(rule)) {
                    PolicyRule parsed = PolicyRule.fromJson(v6, rule);
                    if (parsed != null) {
                        rules.add(parsed);
                    } else {
                        strays.add(new PolicyStray(v6, rule.path("priority").asInt()));
                    }
                }
            }
            for (JsonNode route : json(v6, "route", "show", "table", "all", "proto", Integer.toString(PolicyRule.PROTOCOL))) {
                routes.add(HostRoute.fromJson(route, v6));
            }
        }
        return new Installed(rules, routes, strays);
    }

    /** Makes keymesh's part of the policy {@code plan}, from {@code installed}; returns what is installed after. */
    public Installed apply(Installed installed, PolicyPlan plan) throws IOException {
        List<PolicyRule> ruleDeletes = installed.rules().stream().filter(r -> !plan.rules().contains(r))
                .sorted(Comparator.comparingInt(PolicyPlan::addOrder).reversed()).toList();
        List<PolicyRule> ruleAdds = plan.rules().stream().filter(r -> !installed.rules().contains(r))
                .sorted(Comparator.comparingInt(PolicyPlan::addOrder)).toList();
        List<HostRoute> routeDeletes = installed.routes().stream().filter(r -> !plan.routes().contains(r)).toList();
        List<HostRoute> routeAdds = plan.routes().stream().filter(r -> !installed.routes().contains(r)).toList();
        // Deletions: the tunnel rules first (IPv6, then IPv4), routes last; additions the other way round.
        List<String> v6 = new ArrayList<>(ruleLines("del", ruleDeletes, true));
        v6.addAll(strayLines(installed.strays(), true));
        batch(true, v6);
        List<String> v4 = new ArrayList<>(ruleLines("del", ruleDeletes, false));
        v4.addAll(strayLines(installed.strays(), false));
        routeDeletes.forEach(r -> v4.add(String.join(" ", r.delArgs())));
        batch(false, v4);
        List<String> adds = new ArrayList<>();
        routeAdds.forEach(r -> adds.add(String.join(" ", r.addArgs())));
        adds.addAll(ruleLines("add", ruleAdds, false));
        batch(false, adds);
        batch(true, ruleLines("add", ruleAdds, true));
        return new Installed(plan.rules(), plan.routes(), List.of());
    }

    private static List<String> ruleLines(String verb, List<PolicyRule> rules, boolean v6) {
        return rules.stream().filter(r -> r.ipv6() == v6).map(r -> "rule " + verb + " " + String.join(" ", r.args())).toList();
    }

    private static List<String> strayLines(List<PolicyStray> strays, boolean v6) {
        return strays.stream().filter(s -> s.ipv6() == v6)
                .map(s -> "rule del priority " + s.priority() + " protocol " + PolicyRule.PROTOCOL).toList();
    }

    private static void batch(boolean v6, List<String> all) throws IOException {
        if (all.isEmpty()) {
            return;
        }
        List<String> command = v6 ? List.of("ip", "-6", "-batch", "-") : List.of("ip", "-batch", "-");
        Exec.Result result = Exec.run(command, (String.join("\n", all) + "\n").getBytes(StandardCharsets.US_ASCII));
        if (!result.ok()) {
            // "Command failed -:N" names the line; thousands of route lines would drown it
            java.util.regex.Matcher failed = java.util.regex.Pattern.compile("Command failed -:([0-9]+)").matcher(result.stderr());
            int line = failed.find() ? Integer.parseInt(failed.group(1)) : 0;
            String what = line >= 1 && line <= all.size() ? " (at: ip " + (v6 ? "-6 " : "") + all.get(line - 1) + ")" : "";
            throw new IOException("cannot change the host-mode routing policy: "
                    + result.stderr().strip().lines().findFirst().orElse("ip failed") + what);
        }
    }

    private static JsonNode json(boolean v6, String... args) throws IOException {
        // -4 too: without a family, "route show table all" lists IPv6 routes as well
        List<String> command = new ArrayList<>(List.of("ip", "-N", "-j", v6 ? "-6" : "-4"));
        command.addAll(List.of(args));
        String out = Exec.check(command, null);
        return JSON.readTree(out.isBlank() ? "[]" : out);
    }
}
