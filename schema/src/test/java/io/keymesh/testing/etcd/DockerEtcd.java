package io.keymesh.testing.etcd;

import io.etcd.jetcd.launcher.Etcd;
import java.net.URI;
import java.util.List;

/** etcd in containers through jetcd-launcher, used only where a Docker engine answers. */
final class DockerEtcd implements EtcdCluster {
    private final io.etcd.jetcd.launcher.EtcdCluster cluster;
    private final int members;

    DockerEtcd(int members) {
        this.members = members;
        this.cluster = Etcd.builder()
                .withClusterName("keymesh-test-" + Long.toHexString(System.nanoTime()))
                .withNodes(members)
                .withMountedDataDirectory(false)
                .build();
        cluster.start();
    }

    /** True when Testcontainers finds a Docker engine; checked only if a socket or DOCKER_HOST hints at one. */
    static boolean available() {
        boolean hinted = System.getenv("DOCKER_HOST") != null
                || java.nio.file.Files.exists(java.nio.file.Path.of("/var/run/docker.sock"));
        if (!hinted) {
            return false;
        }
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException e) {
            return false;
        }
    }

    @Override
    public List<URI> clientEndpoints() {
        return cluster.clientEndpoints();
    }

    @Override
    public int size() {
        return members;
    }

    @Override
    public String description() {
        return "etcd in Docker (jetcd-launcher), " + members + " member(s)";
    }

    @Override
    public void close() {
        cluster.close();
    }
}
