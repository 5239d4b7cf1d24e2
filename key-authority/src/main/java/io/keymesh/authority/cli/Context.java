package io.keymesh.authority.cli;

import io.keymesh.runtime.MeshOptions;
import io.keymesh.runtime.TrustKeys;
import io.keymesh.runtime.YamlConfig;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.Addresses;
import io.keymesh.authority.ConfigFile;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.keyfile.KeyFileException;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.runtime.etcd.EtcdAccess;
import io.keymesh.runtime.etcd.EtcdClients;
import io.keymesh.runtime.etcd.EtcdProbe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Model.CommandSpec;

/** What a CLI command works with: the resolved settings and a lazily opened etcd client. */
final class Context implements AutoCloseable {
    /** The longest any one request waits for etcd; a command that gets no answer ends about this long after asking. */
    static final Duration RPC_TIMEOUT = Duration.ofSeconds(10);
    /** After this long without an answer the endpoints are checked: when nothing listens on any, the command ends there. */
    static final Duration PATIENCE = Duration.ofSeconds(2);
    /** How long that check waits for a connection. */
    static final Duration PROBE = Duration.ofSeconds(1);

    final KeyLayout layout;
    final String mesh;
    private final EtcdAccess etcd;
    private final List<String> trustKeys;
    private final ConfigFile file;
    private Client client;

    private Context(KeymeshCli root) {
        this.file = ConfigFile.load(root.config);
        this.layout = new KeyLayout(YamlConfig.first(root.prefix, file.prefix(), KeyLayout.DEFAULT_PREFIX));
        this.mesh = YamlConfig.first(root.mesh, file.mesh(), MeshOptions.DEFAULT_MESH);
        // The etcd login comes from the flags only, never from --config: that file is the authority's,
        // and its etcd user would give the operator the authority's role instead of the operator's.
        this.etcd = root.etcd.access(Addresses.endpoints(YamlConfig.first(root.endpoints, file.endpoints(), List.of(MeshOptions.DEFAULT_ENDPOINT))),
                ConfigFile.EMPTY);
        this.trustKeys = root.trustKeys != null ? root.trustKeys : List.of();
    }

    static Context of(CommandSpec spec) {
        return new Context((KeymeshCli) spec.root().userObject());
    }

    Client client() {
        if (client == null) {
            client = EtcdClients.connect(etcd);
        }
        return client;
    }

    /** Keys from --trust-key, the config's trustedKeys, and the public half of its signing key if readable. */
    TrustedKeys trusted() {
        List<Ed25519PublicKey> keys = new ArrayList<>(TrustKeys.parse(trustKeys));
        if (file.trustedKeys() != null) {
            keys.addAll(TrustKeys.parse(file.trustedKeys()));
        }
        if (file.signingKey() != null) {
            try {
                keys.add(Ed25519PrivateKey.parse(KeyFiles.readSecret(Path.of(file.signingKey()))).publicKey());
            } catch (KeyFileException e) {
                // not readable here (another user, another host): only the listed public keys count
            }
        }
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no trusted authority key: pass --trust-key BASE64, or --config with signingKey or trustedKeys");
        }
        return TrustedKeys.of(keys);
    }

    /** Everything under {@code directory}, read in pages at one revision, each page waited for as {@link #await} does. */
    List<KeyValue> list(String directory) {
        try {
            return io.keymesh.runtime.etcd.PagedRead.prefix(client(), directory, this::await).entries();
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot happen: await throws none of these", e);
        }
    }

    /**
     * The answer, or one line saying why there is none: within {@link #RPC_TIMEOUT}, or sooner
     * when no endpoint has anything listening ({@link EtcdProbe}, after {@link #PATIENCE}).
     * jetcd's calls wait for a connection however long it takes, so the bound is this wait's.
     */
    <T> T await(CompletableFuture<T> future) {
        long started = System.nanoTime();
        try {
            try {
                return future.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                EtcdProbe.Report probe = EtcdProbe.probe(etcd.endpoints(), PROBE);
                if (probe.nothingListens()) {
                    throw new IllegalStateException("cannot reach etcd at " + etcd.endpoints() + " (" + probe
                            + "): is it running, and are --endpoints right?");
                }
                try {
                    return future.get(Math.max(0, started + RPC_TIMEOUT.toNanos() - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (TimeoutException late) {
                    throw unanswered(probe);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        } catch (ExecutionException e) {
            throw failure(e);
        }
    }

    private IllegalStateException unanswered(EtcdProbe.Report probe) {
        // gRPC keeps retrying a failed TLS handshake, so a bad CA, certificate or key looks like silence.
        String hint = !probe.anyAccepts() ? "" : etcd.tls()
                ? ": did the TLS handshake fail? check --etcd-ca-file, --etcd-cert-file and --etcd-key-file against etcd's certificates"
                : ": is it etcd, and has it quorum?";
        return new IllegalStateException("etcd at " + etcd.endpoints() + " did not answer within " + RPC_TIMEOUT.toSeconds() + " s ("
                + probe + ")" + hint);
    }

    private IllegalStateException failure(ExecutionException e) {
        Throwable root = io.keymesh.runtime.Errors.rootCause(e);
        if (root instanceof javax.net.ssl.SSLException || root instanceof java.security.cert.CertificateException) {
            return new IllegalStateException("TLS handshake with etcd at " + etcd.endpoints() + " failed: " + io.keymesh.runtime.Errors.rootMessage(e)
                    + " (check --etcd-ca-file, --etcd-cert-file and --etcd-key-file)");
        }
        Throwable cause = e.getCause() == null ? e : e.getCause();
        return new IllegalStateException("etcd request failed: " + cause.getMessage());
    }

    @Override
    public void close() {
        if (client != null) {
            client.close();
        }
    }
}
