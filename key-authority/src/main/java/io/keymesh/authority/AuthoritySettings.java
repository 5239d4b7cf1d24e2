package io.keymesh.authority;

import io.keymesh.runtime.etcd.EtcdAccess;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.MeshName;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything a key authority replica runs with, validated. Built from the YAML file and flags by
 * {@link AuthorityMain}.
 *
 * @param etcd            how to reach etcd (endpoints, TLS, user)
 * @param signingKey      file with the active Ed25519 signing key (0600)
 * @param extraTrustedKeys other authority public keys whose records stay valid (an authority key rotation)
 * @param candidate       this replica's name in the election
 * @param http            address of /healthz, /readyz and /metrics, or null for none
 * @param maxKeyAge       rotate a node's WireGuard key once it is this old, without operator action; null: never
 * @param watch           how its etcd watch is checked (progress requests, the time allowed for an answer)
 * @param retention       how long, and how many, audit events and answered requests and enrollments the leader keeps
 */
public record AuthoritySettings(
        EtcdAccess etcd,
        KeyLayout layout,
        String mesh,
        Path signingKey,
        List<Ed25519PublicKey> extraTrustedKeys,
        List<IpPrefix> overlayCidrs,
        int listenPort,
        int keepaliveSeconds,
        Duration leaseTtl,
        String candidate,
        java.net.InetSocketAddress http,
        Duration maxKeyAge,
        io.keymesh.runtime.etcd.PrefixWatch.Liveness watch,
        io.keymesh.authority.retention.RetentionPolicy retention) {

    /** With the default watch checks and retention. */
    public AuthoritySettings(EtcdAccess etcd, KeyLayout layout, String mesh, Path signingKey, List<Ed25519PublicKey> extraTrustedKeys,
                             List<IpPrefix> overlayCidrs, int listenPort, int keepaliveSeconds, Duration leaseTtl, String candidate,
                             java.net.InetSocketAddress http, Duration maxKeyAge) {
        this(etcd, layout, mesh, signingKey, extraTrustedKeys, overlayCidrs, listenPort, keepaliveSeconds, leaseTtl, candidate, http, maxKeyAge,
                io.keymesh.runtime.etcd.PrefixWatch.Liveness.DEFAULT, io.keymesh.authority.retention.RetentionPolicy.DEFAULT);
    }

    public AuthoritySettings {
        java.util.Objects.requireNonNull(watch, "watch");
        java.util.Objects.requireNonNull(retention, "retention");
        java.util.Objects.requireNonNull(etcd, "etcd");
        MeshName.require(mesh);
        if (signingKey == null) {
            throw new IllegalArgumentException("no signing key: set --signing-key or 'signingKey' (create one with 'keymesh keygen authority --out FILE')");
        }
        extraTrustedKeys = extraTrustedKeys == null ? List.of() : List.copyOf(extraTrustedKeys);
        if (overlayCidrs == null || overlayCidrs.isEmpty()) {
            throw new IllegalArgumentException("no overlay CIDR: set --overlay-cidr or 'overlayCidrs' (for example 198.18.0.0/16)");
        }
        overlayCidrs = List.copyOf(overlayCidrs);
        if (listenPort < 1 || listenPort > 65535) {
            throw new IllegalArgumentException("listenPort must be 1 to 65535, got " + listenPort);
        }
        if (leaseTtl.toSeconds() < 1 || leaseTtl.toSeconds() > 300) {
            throw new IllegalArgumentException("leaseTtl must be 1 s to 300 s, got " + leaseTtl.toSeconds() + " s");
        }
        if (maxKeyAge != null && maxKeyAge.compareTo(Duration.ofMinutes(1)) < 0) {
            throw new IllegalArgumentException("maxKeyAge must be at least 1 minute, got " + maxKeyAge.toSeconds() + " s");
        }
        if (candidate == null || candidate.isBlank()) {
            throw new IllegalArgumentException("candidate name is empty");
        }
    }

    /** The etcd client URLs. */
    public List<URI> endpoints() {
        return etcd.endpoints();
    }
}
