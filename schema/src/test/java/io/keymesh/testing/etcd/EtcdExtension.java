package io.keymesh.testing.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.options.CompactOption;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real etcd for a test class, in the manner of Curator's {@code TestingServer}:
 *
 * <pre>{@code
 * @RegisterExtension
 * static final EtcdExtension etcd = EtcdExtension.cluster(3);
 * }</pre>
 *
 * <p>Where it comes from, in order: {@code ETCD_ENDPOINTS} (comma-separated URLs) if set; else a
 * Docker etcd through jetcd-launcher if a Docker engine answers; else the {@code etcd} binary on
 * free loopback ports. {@code KEYMESH_TEST_ETCD=external|docker|binary} forces one. With none to
 * be had, the test class fails with a message naming the package to install; it is never
 * skipped. Tests keep to their own {@link #uniquePrefix} so a shared etcd never mixes runs.
 */
public final class EtcdExtension implements BeforeAllCallback, AfterAllCallback {
    private final int members;
    private final String runId = UUID.randomUUID().toString().substring(0, 8);
    private EtcdCluster cluster;
    private Client client;

    private EtcdExtension(int members) {
        this.members = members;
    }

    public static EtcdExtension singleMember() {
        return new EtcdExtension(1);
    }

    public static EtcdExtension cluster(int members) {
        return new EtcdExtension(members);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = provision(members);
        System.out.println("[etcd fixture] " + cluster.description() + " for " + context.getDisplayName());
        client = newClient();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (client != null) {
            client.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    static EtcdCluster provision(int members) {
        String mode = System.getenv().getOrDefault("KEYMESH_TEST_ETCD", "auto").toLowerCase(Locale.ROOT);
        String endpoints = System.getenv("ETCD_ENDPOINTS");
        switch (mode) {
            case "external":
                if (endpoints == null || endpoints.isBlank()) {
                    throw new EtcdUnavailableException("KEYMESH_TEST_ETCD=external needs ETCD_ENDPOINTS");
                }
                return new ExternalEtcd(endpoints);
            case "docker":
                return new DockerEtcd(members);
            case "binary":
                return LocalEtcdCluster.start(members);
            case "auto":
                if (endpoints != null && !endpoints.isBlank()) {
                    return new ExternalEtcd(endpoints);
                }
                if (DockerEtcd.available()) {
                    return new DockerEtcd(members);
                }
                return LocalEtcdCluster.start(members);
            default:
                throw new EtcdUnavailableException("KEYMESH_TEST_ETCD must be auto, external, docker or binary, not " + mode);
        }
    }

    /**
     * For tests that stop, kill or pause members: skipped, with the reason, where the cluster is
     * not the fixture's own (Docker, ETCD_ENDPOINTS); a failure in CI, where it always must be.
     */
    public void requireMemberFaults(int members) {
        EtcdCluster c = cluster();
        if (c.supportsMemberFaults() && c.size() >= members) {
            return;
        }
        String why = "needs " + members + " etcd members the fixture started itself; have " + c.description();
        if (System.getenv("CI") != null) {
            org.junit.jupiter.api.Assertions.fail(why);
        }
        org.junit.jupiter.api.Assumptions.abort(why);
    }

    public EtcdCluster cluster() {
        return requireStarted(cluster);
    }

    /** A client shared by the test class, closed after it. */
    public Client client() {
        return requireStarted(client);
    }

    /** A new client on all members; the caller closes it. */
    public Client newClient() {
        return clientBuilder().build();
    }

    /** A client builder aimed at all members, for options such as sharing a Vert.x instance. */
    public ClientBuilder clientBuilder() {
        return Client.builder().endpoints(requireStarted(cluster).clientEndpoints().toArray(java.net.URI[]::new));
    }

    /** A key prefix no other test, class or run uses, such as {@code /keymesh-test/1a2b3c4d/join}. */
    public String uniquePrefix(String name) {
        return "/keymesh-test/" + runId + "/" + name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The store's current revision. */
    public long currentRevision() {
        try {
            return client().getKVClient().get(ByteSequence.from("\0", StandardCharsets.UTF_8))
                    .get(10, TimeUnit.SECONDS).getHeader().getRevision();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the etcd revision: " + e.getMessage(), e);
        }
    }

    /** Compacts history up to the current revision (physically), so watches from older revisions fail. */
    public long compact() {
        long revision = currentRevision();
        try {
            client().getKVClient().compact(revision, CompactOption.builder().withCompactPhysical(true).build())
                    .get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("compaction failed: " + e.getMessage(), e);
        }
        return revision;
    }

    private static <T> T requireStarted(T value) {
        if (value == null) {
            throw new IllegalStateException("EtcdExtension is not started: register it as a static @RegisterExtension field");
        }
        return value;
    }
}
