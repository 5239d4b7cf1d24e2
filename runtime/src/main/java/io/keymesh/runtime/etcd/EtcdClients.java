package io.keymesh.runtime.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.keymesh.schema.keyfile.KeyFileException;
import io.keymesh.schema.keyfile.KeyFiles;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * Opens the jetcd client for an {@link EtcdAccess}: reads the CA, the client certificate and key
 * and the password file, and fails with one line naming the file when any is unusable. The
 * channel verifies every member's certificate against its endpoint's host (jetcd gives each
 * address its own authority), so an IP endpoint needs that IP in the certificate's names.
 */
public final class EtcdClients {
    /** How long one attempt to connect to an etcd member may take (TCP, and TLS when used). */
    public static final java.time.Duration CONNECT_TIMEOUT = java.time.Duration.ofSeconds(3);

    /** etcd's metadata key for "require leader" (rpctypes.MetadataRequireLeaderKey). */
    static final String REQUIRE_LEADER_KEY = "hasleader";

    private EtcdClients() {
    }

    public static Client connect(EtcdAccess access) {
        ClientBuilder builder = Client.builder().endpoints(access.endpoints().toArray(java.net.URI[]::new))
                .maxInboundMessageSize(PagedRead.MAX_MESSAGE_BYTES)
                // etcd's "require leader" (clientv3.WithRequireLeader; Kubernetes watches with it): a
                // member that has lost its raft leader refuses calls at once and cancels the watches it
                // serves, instead of serving a minority partition's stale view; the client then moves
                // to another member.
                .header(REQUIRE_LEADER_KEY, "true")
                // A connection attempt into a partition otherwise hangs on the kernel's SYN retries
                // (1, 2, 4, 8, 16 s apart) and can complete only that long after the network is back.
                .connectTimeout(CONNECT_TIMEOUT);
        if (access.tls()) {
            builder.sslContext(sslContext(access));
        }
        if (access.user() != null) {
            builder.user(ByteSequence.from(access.user(), StandardCharsets.UTF_8))
                    .password(ByteSequence.from(readPassword(access.passwordFile()), StandardCharsets.UTF_8));
        }
        return builder.build();
    }

    /**
     * Asks the client's gRPC channel to connect again now rather than when its backoff ends. gRPC
     * waits between connection attempts from 1 s growing to 2 minutes, so after a long network
     * partition a client could stay away for up to 2 minutes after the network came back. jetcd
     * 0.8 has no setting for that backoff and does not expose its channel, hence the reflection
     * (its field names are pinned by {@code EtcdClientsTest}). Returns false when they differ
     * (another jetcd version), true otherwise (also when no channel exists yet: nothing waits).
     */
    public static boolean reconnectNow(Client client) {
        try {
            java.lang.reflect.Field manager = client.getClass().getDeclaredField("connectionManager");
            manager.setAccessible(true);
            Object connections = manager.get(client);
            java.lang.reflect.Field channel = connections.getClass().getDeclaredField("managedChannel");
            channel.setAccessible(true);
            Object managed = channel.get(connections);
            if (managed instanceof io.grpc.ManagedChannel grpc) {
                grpc.resetConnectBackoff();
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    static SslContext sslContext(EtcdAccess access) {
        SslContextBuilder tls = GrpcSslContexts.forClient();
        X509Certificate[] ca = access.caFile() == null ? null : certificates(access.caFile(), "etcd CA file");
        PrivateKey key = access.certFile() == null ? null : privateKey(access.keyFile());
        X509Certificate[] chain = access.certFile() == null ? null : certificates(access.certFile(), "etcd client certificate");
        try {
            if (ca != null) {
                tls.trustManager(ca);
            }
            if (key != null) {
                tls.keyManager(key, chain);
            }
            return tls.build();
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot set up TLS to etcd: " + e.getMessage());
        }
    }

    static String readPassword(Path file) {
        try {
            return KeyFiles.readSecret(file);
        } catch (KeyFileException e) {
            throw new IllegalArgumentException("etcd password file: " + e.getMessage());
        }
    }

    static X509Certificate[] certificates(Path file, String what) {
        byte[] pem;
        try {
            pem = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(what + " " + file + " does not exist");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " " + file + ": " + e.getMessage());
        }
        try {
            List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))
                    .stream().map(X509Certificate.class::cast).toList();
            if (certs.isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
            return certs.toArray(X509Certificate[]::new);
        } catch (CertificateException e) {
            throw new IllegalArgumentException(what + " " + file + " is not a PEM certificate: " + e.getMessage());
        }
    }

    static PrivateKey privateKey(Path file) {
        String pem;
        try {
            pem = KeyFiles.readPrivate(file);
        } catch (KeyFileException e) {
            throw new IllegalArgumentException("etcd client key: " + e.getMessage());
        }
        if (pem.contains("ENCRYPTED")) { // PKCS#8 "ENCRYPTED PRIVATE KEY" and OpenSSL's "Proc-Type: 4,ENCRYPTED"
            throw new IllegalArgumentException("etcd client key " + file + " is encrypted; keymesh reads unencrypted keys, "
                    + "protected by mode 0600 (decrypt it with 'openssl pkey -in KEY -out PLAIN')");
        }
        try (PEMParser parser = new PEMParser(new StringReader(pem))) {
            Object object = parser.readObject();
            while (object instanceof org.bouncycastle.asn1.ASN1ObjectIdentifier) {
                object = parser.readObject(); // "EC PARAMETERS" before the key, as 'openssl ecparam -genkey' writes it
            }
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (object instanceof PEMKeyPair pair) {
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (object instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            throw new IllegalArgumentException("etcd client key " + file + " is not an unencrypted PEM private key"
                    + (object == null ? "" : " (it holds a " + object.getClass().getSimpleName() + ")"));
        } catch (IOException e) {
            throw new IllegalArgumentException("etcd client key " + file + " is not a PEM private key: " + e.getMessage());
        }
    }
}
