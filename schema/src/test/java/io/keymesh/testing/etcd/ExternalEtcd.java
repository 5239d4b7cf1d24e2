package io.keymesh.testing.etcd;

import java.net.URI;
import java.util.Arrays;
import java.util.List;

/** An etcd the test run was pointed at with {@code ETCD_ENDPOINTS}; the fixture neither starts nor stops it. */
final class ExternalEtcd implements EtcdCluster {
    private final List<URI> endpoints;

    ExternalEtcd(String commaSeparated) {
        this.endpoints = Arrays.stream(commaSeparated.split(","))
                .map(String::strip)
                .filter(s -> !s.isEmpty())
                .map(URI::create)
                .toList();
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("ETCD_ENDPOINTS is set but names no endpoint");
        }
    }

    @Override
    public List<URI> clientEndpoints() {
        return endpoints;
    }

    @Override
    public int size() {
        return endpoints.size();
    }

    @Override
    public String description() {
        return "external etcd at " + endpoints;
    }

    @Override
    public void close() {
    }
}
