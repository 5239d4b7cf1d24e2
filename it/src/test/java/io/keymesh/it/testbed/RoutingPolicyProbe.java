package io.keymesh.it.testbed;

import io.keymesh.daemon.host.Exemption;
import io.keymesh.daemon.host.HostTraffic;
import io.keymesh.daemon.host.PolicyPlan;
import io.keymesh.daemon.host.RoutingPolicy;
import io.keymesh.schema.record.IpPrefix;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code RoutingPolicyProbe DEVICE PEERS}: times keymesh's own routing-policy code (the daemon's
 * {@link RoutingPolicy}) in the namespace it runs in: host mode on with PEERS peer routes at once,
 * a full read back, one peer added, one removed, and host mode off. Prints one line per step,
 * {@code <step> <ms>}.
 */
public final class RoutingPolicyProbe {
    private RoutingPolicyProbe() {
    }

    public static void main(String[] args) throws Exception {
        String device = args[0];
        int count = Integer.parseInt(args[1]);
        HostTraffic on = new HostTraffic(true, Exemption.DEFAULTS, HostTraffic.DEFAULT_FIREWALL_MARK, HostTraffic.DEFAULT_TABLE,
                HostTraffic.DEFAULT_RULE_PRIORITY, false);
        IpPrefix range = IpPrefix.parse("198.18.0.0/15");
        List<InetAddress> peers = new ArrayList<>();
        for (int i = 0; i <= count; i++) {
            peers.add(range.addressAt(BigInteger.valueOf(i + 1)));
        }
        RoutingPolicy policy = new RoutingPolicy();
        List<InetAddress> first = peers.subList(0, count);
        long t = System.nanoTime();
        RoutingPolicy.Installed installed = policy.apply(RoutingPolicy.Installed.NONE, PolicyPlan.of(on, List.of(), device, first, List.of(), 51820, true));
        report("on", t);
        t = System.nanoTime();
        RoutingPolicy.Installed read = policy.read(true);
        report("read", t);
        if (!read.rules().equals(installed.rules()) || !read.routes().equals(installed.routes())) {
            throw new IllegalStateException("read back " + read.routes().size() + " routes, " + read.rules().size() + " rules; installed "
                    + installed.routes().size() + ", " + installed.rules().size());
        }
        t = System.nanoTime();
        installed = policy.apply(installed, PolicyPlan.of(on, List.of(), device, peers, List.of(), 51820, true));
        report("add-one", t);
        t = System.nanoTime();
        installed = policy.apply(installed, PolicyPlan.of(on, List.of(), device, first, List.of(), 51820, true));
        report("remove-one", t);
        t = System.nanoTime();
        policy.apply(installed, PolicyPlan.NONE);
        report("off", t);
    }

    private static void report(String step, long started) {
        System.out.printf("%s %.1f%n", step, (System.nanoTime() - started) / 1e6);
    }
}
