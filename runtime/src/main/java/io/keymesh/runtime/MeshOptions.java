package io.keymesh.runtime;

import static io.keymesh.runtime.YamlConfig.first;

import io.keymesh.schema.layout.KeyLayout;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import io.keymesh.runtime.etcd.EtcdAccess;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every keymesh program starts with, as a picocli mixin: the configuration file and
 * which etcd (and how to authenticate to it), prefix and mesh to work on. Each getter takes the config file's value and returns
 * the flag if given, else the file's, else the default.
 */
public final class MeshOptions {
    public static final String DEFAULT_ENDPOINT = "http://127.0.0.1:2379";
    public static final String DEFAULT_MESH = "keymesh";

    @Option(names = "--config", paramLabel = "FILE", description = "YAML configuration (flags override it)")
    public Path config;

    @Option(names = "--endpoints", paramLabel = "URL", split = ",", description = "etcd client URLs (default " + DEFAULT_ENDPOINT + ")")
    List<String> endpoints;

    @Option(names = "--prefix", description = "etcd key prefix (default " + KeyLayout.DEFAULT_PREFIX + ")")
    String prefix;

    @Option(names = "--mesh", description = "mesh name (default " + DEFAULT_MESH + ")")
    String mesh;

    @Mixin
    EtcdOptions etcd = new EtcdOptions();

    public List<URI> endpoints(List<String> fromFile) {
        return Addresses.endpoints(first(endpoints, fromFile, List.of(DEFAULT_ENDPOINT)));
    }

    /** The endpoints, TLS and user to reach etcd with: flags over the file's settings. */
    public EtcdAccess etcd(List<String> endpointsFromFile, EtcdOptions.FileSettings file) {
        return etcd.access(endpoints(endpointsFromFile), file);
    }

    public KeyLayout layout(String fromFile) {
        return new KeyLayout(first(prefix, fromFile, KeyLayout.DEFAULT_PREFIX));
    }

    public String mesh(String fromFile) {
        return first(mesh, fromFile, DEFAULT_MESH);
    }
}
