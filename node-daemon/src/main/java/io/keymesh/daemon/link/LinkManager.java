package io.keymesh.daemon.link;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.keymesh.daemon.exec.Exec;
import io.keymesh.daemon.wireguard.UapiDevice;
import io.keymesh.schema.record.IpAddresses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetAddress;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes the WireGuard interface exist, with the node's addresses and MTU, and up, using
 * {@code ip} (iproute2). It only ever adds: an existing interface is adopted as it is, addresses
 * someone else put on it stay, and nothing here deletes an interface or takes it down.
 */
public final class LinkManager {
    /** How a missing interface is created. */
    public enum Implementation {
        /** {@code ip link add ... type wireguard}: the kernel module. */
        KERNEL,
        /** {@code wireguard-go <if>}: the userspace implementation, which keeps running on its own. */
        WIREGUARD_GO
    }

    /** WireGuard's overhead over IPv6: 40 (IPv6) + 8 (UDP) + 32 (WireGuard header and tag). */
    static final int WIREGUARD_OVERHEAD = 80;
    /** IPv6's minimum: an overlay carrying IPv6 cannot go below it. */
    private static final int MINIMUM_MTU = 1280;
    private static final Logger LOG = LoggerFactory.getLogger(LinkManager.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Implementation implementation;

    public LinkManager(Implementation implementation) {
        this.implementation = implementation;
    }

    /**
     * Creates the interface if missing, adds missing addresses, sets the MTU, brings it up; each
     * only when needed. Without a configured MTU, the MTU follows the underlay toward
     * {@code peers} ({@link UnderlayMtu}) minus WireGuard's overhead, every time this runs.
     *
     * @return true when the interface had to be created (anything routed through it before is gone)
     */
    public boolean ensure(LinkSpec spec, Collection<InetAddress> peers) throws IOException {
        JsonNode link = show(spec.name());
        boolean created = false;
        if (link == null) {
            create(spec.name());
            link = show(spec.name());
            if (link == null) {
                throw new IOException("interface " + spec.name() + " did not appear after creating it");
            }
            created = true;
        }
        int mtu = spec.mtu() != null ? spec.mtu() : Math.max(MINIMUM_MTU, underlayMtu(peers, spec.name()) - WIREGUARD_OVERHEAD);
        if (link.path("mtu").asInt() != mtu) {
            Exec.check("ip", "link", "set", "dev", spec.name(), "mtu", Integer.toString(mtu));
            LOG.info("interface {}: MTU {} (was {}){}", spec.name(), mtu, link.path("mtu").asInt(),
                    spec.mtu() != null ? "" : ", the underlay's minus " + WIREGUARD_OVERHEAD);
        }
        Set<String> present = new HashSet<>();
        for (JsonNode info : link.path("addr_info")) {
            present.add(IpAddresses.format(IpAddresses.parse(info.path("local").asText())) + "/" + info.path("prefixlen").asInt());
        }
        for (LinkAddress address : spec.addresses()) {
            if (!present.contains(address.toString())) {
                Exec.check("ip", "address", "add", address.toString(), "dev", spec.name());
                LOG.info("interface {}: address {}", spec.name(), address);
            }
        }
        boolean up = false;
        for (JsonNode flag : link.path("flags")) {
            up |= "UP".equals(flag.asText());
        }
        if (!up) {
            Exec.check("ip", "link", "set", "dev", spec.name(), "up");
            LOG.info("interface {}: up", spec.name());
        }
        loosenReversePathFilter(spec.name());
        return created;
    }

    /**
     * Strict reverse-path filtering (rp_filter 1, the larger of "all" and the interface's) would
     * drop what a peer in host mode sends through the tunnel from its underlay address, since the
     * way back to that address is the underlay, not this interface. Loose filtering (2) on this
     * interface alone accepts it; the underlay's own setting is not touched.
     */
    private static void loosenReversePathFilter(String name) throws IOException {
        Path all = Path.of("/proc/sys/net/ipv4/conf/all/rp_filter");
        Path own = Path.of("/proc/sys/net/ipv4/conf", name, "rp_filter");
        if (!Files.exists(all) || !Files.exists(own)) {
            return; // no IPv4
        }
        int effective = Math.max(Integer.parseInt(Files.readString(all).strip()), Integer.parseInt(Files.readString(own).strip()));
        if (effective == 1) {
            Files.writeString(own, "2\n");
            LOG.info("interface {}: loose reverse-path filtering (rp_filter 2), so peers in host mode reach this host", name);
        }
    }

    /** The interface as {@code ip -j address show} describes it, or null when there is none. */
    private static JsonNode show(String name) throws IOException {
        Exec.Result result = Exec.run(List.of("ip", "-j", "address", "show", "dev", name), null);
        if (!result.ok()) {
            if (result.stderr().contains("does not exist")) {
                return null;
            }
            throw new IOException("ip address show dev " + name + " failed: " + result.stderr());
        }
        JsonNode all = JSON.readTree(result.stdout());
        return all.isArray() && all.size() == 1 ? all.get(0) : null;
    }

    private void create(String name) throws IOException {
        if (implementation == Implementation.KERNEL) {
            Exec.Result result = Exec.run(List.of("ip", "link", "add", "dev", name, "type", "wireguard"), null);
            if (!result.ok()) {
                throw new IOException("cannot create WireGuard interface " + name + " in the kernel (" + result.stderr()
                        + "); without the WireGuard module, set implementation to wireguard-go");
            }
            LOG.info("created interface {} (kernel WireGuard)", name);
            return;
        }
        // wireguard-go forks into the background and the parent exits once the device exists;
        // the interface then outlives this daemon, so a daemon restart never interrupts traffic.
        // Its output goes nowhere: the background process would keep our pipes open otherwise.
        Process starter = new ProcessBuilder("wireguard-go", name).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            if (!starter.waitFor(30, TimeUnit.SECONDS) || starter.exitValue() != 0) {
                starter.destroyForcibly();
                throw new IOException("wireguard-go " + name + " failed to start the interface (run it by hand to see why)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting wireguard-go", e);
        }
        Path socket = UapiDevice.SOCKET_DIRECTORY.resolve(name + ".sock");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(socket) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + socket, e);
            }
        }
        if (!Files.exists(socket)) {
            throw new IOException("wireguard-go did not create " + socket + " within 10 s");
        }
        LOG.info("created interface {} (wireguard-go)", name);
    }

    /** The underlay MTU toward {@code peers}, from the main table's routes and the links' MTUs. */
    static int underlayMtu(Collection<InetAddress> peers, String wireGuard) throws IOException {
        Map<String, Integer> mtus = new HashMap<>();
        for (JsonNode link : readJson("ip", "-j", "link", "show")) {
            mtus.put(link.path("ifname").asText(), link.path("mtu").asInt());
        }
        boolean v6 = peers.stream().anyMatch(p -> p instanceof java.net.Inet6Address);
        return UnderlayMtu.of(readJson("ip", "-j", "route", "show", "table", "main"),
                v6 ? readJson("ip", "-j", "-6", "route", "show", "table", "main") : JSON.createArrayNode(), mtus, peers, wireGuard);
    }

    private static JsonNode readJson(String... command) throws IOException {
        String out = Exec.check(command);
        return JSON.readTree(out.isBlank() ? "[]" : out);
    }
}
