package io.keymesh.runtime;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Arrays;
import java.util.List;

/** Parsing of the address-like settings: etcd endpoints and listen addresses. */
public final class Addresses {
    private Addresses() {
    }

    /** {@code http://host:2379}, or just {@code host:2379}; comma-separated lists are split. */
    public static List<URI> endpoints(List<String> values) {
        return values.stream()
                .flatMap(v -> Arrays.stream(v.split(",")))
                .map(String::strip)
                .filter(v -> !v.isEmpty())
                .map(v -> v.contains("://") ? v : "http://" + v)
                .map(v -> {
                    URI uri = URI.create(v);
                    if (uri.getHost() == null || uri.getPort() < 0) {
                        throw new IllegalArgumentException("etcd endpoint '" + v + "' needs a host and a port, like http://127.0.0.1:2379");
                    }
                    return uri;
                })
                .toList();
    }

    /** A listen address, or null for {@code off} (the setting that turns an HTTP endpoint off). */
    public static InetSocketAddress listenOrOff(String value) {
        return "off".equals(value) ? null : listen(value);
    }

    /** {@code 127.0.0.1:9470} or {@code [::1]:9470}. */
    public static InetSocketAddress listen(String value) {
        URI uri = URI.create("http://" + value.strip());
        if (uri.getHost() == null || uri.getPort() < 0) {
            throw new IllegalArgumentException("listen address '" + value + "' must be host:port, like 127.0.0.1:9470");
        }
        String host = uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost();
        return new InetSocketAddress(host, uri.getPort());
    }
}
