package io.keymesh.daemon.host;

import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host mode on this host, reconciled like the peers: the routing policy ({@link PolicyPlan}) and
 * the MSS clamp follow the verified peers, and with the mode off everything keymesh ever put
 * there is removed (so switching it off and restarting the daemon leaves the policy as it was).
 * Called on the device worker thread only.
 */
public final class HostMode {
    private static final Logger LOG = LoggerFactory.getLogger(HostMode.class);

    private final HostTraffic settings;
    private final String device;
    private final List<Exemption> automatic;
    private final RoutingPolicy policy = new RoutingPolicy();
    private final MssClamp clamp = new MssClamp();
    private final boolean ipv6 = RoutingPolicy.hasIpv6();
    private final List<InetAddress> advertised;
    /** What the kernel has, as last read or applied; null to read it again. Volatile: the metrics thread counts its routes. */
    private volatile RoutingPolicy.Installed installed;
    /** The advertised addresses this host really has, found with each full read. */
    private List<InetAddress> sources = List.of();
    private Set<InetAddress> contested = Set.of();

    /**
     * @param etcd       this daemon's etcd endpoints: connections to them are always exempt, whatever the configured exemptions say
     * @param advertised this host's advertised endpoints: host traffic leaves from their addresses
     */
    public HostMode(HostTraffic settings, String device, List<URI> etcd, List<Endpoint> advertised) {
        this.settings = settings;
        this.device = device;
        this.automatic = automaticExemptions(etcd);
        this.advertised = advertised.stream().map(Endpoint::address).distinct().toList();
    }

    public HostTraffic settings() {
        return settings;
    }

    /** Connections to each etcd endpoint given as an IP address; names are covered by the port exemptions only. */
    static List<Exemption> automaticExemptions(List<URI> etcd) {
        List<Exemption> exemptions = new ArrayList<>();
        for (URI endpoint : etcd) {
            String host = endpoint.getHost() == null ? "" : endpoint.getHost().replaceAll("^\\[|\\]$", "");
            InetAddress address;
            try {
                address = IpAddresses.parse(host);
            } catch (IllegalArgumentException e) {
                continue; // a name: resolving it here could not follow its changes
            }
            Exemption e = Exemption.toService(IpPrefix.host(address), endpoint.getPort() > 0 ? endpoint.getPort() : 2379);
            if (!exemptions.contains(e)) {
                exemptions.add(e);
            }
        }
        return List.copyOf(exemptions);
    }

    /** The firewall mark the device should carry, given the one it has: ours in host mode; none instead of ours without it. */
    public long firewallMark(long current) {
        if (settings.enabled()) {
            return settings.firewallMark();
        }
        return current == settings.firewallMark() ? 0 : current;
    }

    /** Forgets what is installed: the next {@link #reconcile} reads it back (after a failure, or periodically). */
    public void forget() {
        installed = null;
    }

    /** Makes the policy match {@code underlay}; reads the kernel's state first when it is not known. */
    public void reconcile(PeerUnderlay underlay, int listenPort) throws IOException {
        if (!underlay.contested().equals(contested)) {
            contested = underlay.contested();
            if (settings.enabled() && !contested.isEmpty()) {
                LOG.warn("host mode: underlay address(es) {} are advertised by more than one node; traffic to them stays unencrypted",
                        contested.stream().map(IpAddresses::format).sorted().toList());
            }
        }
        if (installed == null) {
            installed = policy.read(ipv6);
            sources = localSources();
            if (settings.enabled() && settings.mssClamp()) {
                clamp.install(device);
            } else {
                clamp.remove();
            }
        }
        PolicyPlan plan = PolicyPlan.of(settings, automatic, device, underlay.routable(), sources, listenPort, ipv6);
        if (plan.rules().equals(installed.rules()) && plan.routes().equals(installed.routes()) && installed.strays().isEmpty()) {
            return;
        }
        RoutingPolicy.Installed before = installed;
        installed = null; // unknown until the change is through
        RoutingPolicy.Installed after = policy.apply(before, plan);
        // A stray is deleted by its priority, which may have taken one of ours with it: read again next time.
        installed = before.strays().isEmpty() ? after : null;
        int routesAdded = (int) plan.routes().stream().filter(r -> !before.routes().contains(r)).count();
        int routesRemoved = (int) before.routes().stream().filter(r -> !plan.routes().contains(r)).count();
        if (!plan.rules().equals(before.rules()) || !before.strays().isEmpty()) {
            LOG.info(settings.enabled()
                    ? "host mode on: traffic to {} peer underlay address(es) goes through {}, except WireGuard's own (fwmark 0x{}) and {}"
                    : "host mode off: keymesh's routing rules and routes removed", plan.routes().size(), device,
                    Long.toHexString(settings.firewallMark()), settings.exemptions());
        } else {
            LOG.info("host mode: {} peer underlay route(s) added, {} removed", routesAdded, routesRemoved);
        }
    }

    /** The advertised addresses that are on this host (an address behind NAT is not, and cannot be a source). */
    private List<InetAddress> localSources() throws IOException {
        if (!settings.enabled() || advertised.isEmpty()) {
            return List.of();
        }
        Set<InetAddress> local = RoutingPolicy.localAddresses();
        List<InetAddress> usable = advertised.stream().filter(local::contains).toList();
        if (usable.size() < advertised.size()) {
            LOG.warn("host mode: advertised address(es) {} are not on this host (NAT?); host traffic of that family leaves from the "
                    + "address the kernel picks for {}", advertised.stream().filter(a -> !local.contains(a)).map(IpAddresses::format).toList(),
                    device);
        }
        return usable;
    }

    public int routes() {
        RoutingPolicy.Installed known = installed;
        return known == null ? 0 : known.routes().size();
    }
}
