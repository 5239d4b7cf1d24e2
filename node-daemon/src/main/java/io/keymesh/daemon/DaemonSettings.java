package io.keymesh.daemon;

import io.keymesh.daemon.host.HostTraffic;
import io.keymesh.daemon.link.LinkManager;
import io.keymesh.daemon.reconcile.DeviceOverrides;
import io.keymesh.runtime.etcd.EtcdAccess;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.MeshName;
import io.keymesh.schema.record.NodeName;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a node daemon runs with, validated. Built from the YAML file and flags by
 * {@link DaemonMain}.
 *
 * @param etcd           how to reach etcd (endpoints, TLS, user)
 * @param trustedKeys    the pinned authority public keys; a record signed by any other key is refused
 * @param advertised     where peers reach this host; empty when it sits behind NAT
 * @param joinTokenFile  a 0600 file with a join token, needed only until the host is admitted
 * @param http           address of /healthz, /readyz, /metrics and /peers, or null for none
 * @param hostTraffic    host mode: encrypt all traffic to the peers' underlay addresses
 * @param watch          how its etcd watches are checked (progress requests, the time allowed for an answer)
 */
public record DaemonSettings(
        EtcdAccess etcd,
        KeyLayout layout,
        String mesh,
        String node,
        List<Ed25519PublicKey> trustedKeys,
        Path stateDirectory,
        String interfaceName,
        Backend backend,
        LinkManager.Implementation implementation,
        List<Endpoint> advertised,
        DeviceOverrides overrides,
        Path joinTokenFile,
        InetSocketAddress http,
        HostTraffic hostTraffic,
        io.keymesh.runtime.etcd.PrefixWatch.Liveness watch) {

    /** With the default watch checks. */
    public DaemonSettings(EtcdAccess etcd, KeyLayout layout, String mesh, String node, List<Ed25519PublicKey> trustedKeys,
                          Path stateDirectory, String interfaceName, Backend backend, LinkManager.Implementation implementation,
                          List<Endpoint> advertised, DeviceOverrides overrides, Path joinTokenFile, InetSocketAddress http,
                          HostTraffic hostTraffic) {
        this(etcd, layout, mesh, node, trustedKeys, stateDirectory, interfaceName, backend, implementation, advertised, overrides,
                joinTokenFile, http, hostTraffic, io.keymesh.runtime.etcd.PrefixWatch.Liveness.DEFAULT);
    }

    /** How the daemon talks to WireGuard. */
    public enum Backend {
        /** The control socket if the interface has one (userspace), else the wg tool. */
        AUTO,
        /** The wg tool: kernel or userspace. */
        WG,
        /** The userspace control socket, spoken directly. */
        UAPI,
        /** An in-memory device: tests and simulations; touches no interface. */
        MEMORY
    }

    public DaemonSettings {
        java.util.Objects.requireNonNull(etcd, "etcd");
        java.util.Objects.requireNonNull(watch, "watch");
        MeshName.require(mesh);
        if (node == null || !NodeName.isValid(node)) {
            throw new IllegalArgumentException("node name '" + node + "' is not a lower-case DNS label (a-z, 0-9, '-', at most 63); set --node");
        }
        if (trustedKeys == null || trustedKeys.isEmpty()) {
            throw new IllegalArgumentException("no authority key pinned: set --trust-key (the public key 'keymesh keygen' printed)"
                    + " or 'trustedKeys' in the config file");
        }
        trustedKeys = List.copyOf(trustedKeys);
        if (interfaceName == null || !interfaceName.matches("[a-zA-Z0-9_=+.-]{1,15}")) {
            throw new IllegalArgumentException("interface name '" + interfaceName + "' must be 1 to 15 of a-z A-Z 0-9 _ = + . -");
        }
        advertised = List.copyOf(advertised);
        range(overrides.listenPort(), 1, 65535, "listenPort");
        range(overrides.natKeepaliveSeconds(), 0, 65535, "keepaliveSeconds");
        range(overrides.mtu(), 1280, 65535, "mtu");
        if (hostTraffic == null) {
            hostTraffic = HostTraffic.OFF;
        }
        if (hostTraffic.enabled() && backend == Backend.MEMORY) {
            throw new IllegalArgumentException("host traffic needs a real WireGuard interface, not the memory backend");
        }
    }

    private static void range(Integer value, int min, int max, String what) {
        if (value != null && (value < min || value > max)) {
            throw new IllegalArgumentException(what + " must be " + min + " to " + max + ", got " + value);
        }
    }

    /** The etcd client URLs. */
    public List<URI> endpoints() {
        return etcd.endpoints();
    }
}
