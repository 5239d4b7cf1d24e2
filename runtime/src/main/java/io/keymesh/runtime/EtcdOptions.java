package io.keymesh.runtime;

import static io.keymesh.runtime.YamlConfig.first;

import io.keymesh.runtime.etcd.EtcdAccess;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * How every keymesh program authenticates to etcd, as a picocli mixin (inherited by the CLI's
 * subcommands): TLS files and the etcd user. The names follow etcdctl's ({@code --cacert},
 * {@code --cert}, {@code --key}, {@code --user}) with an {@code etcd-} prefix, because the daemon
 * and authority have keys of their own. A password is only ever read from a file.
 */
public final class EtcdOptions {
    @Option(names = "--etcd-ca-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "PEM CA certificates to verify etcd with (https:// endpoints; default the system's CAs)")
    Path caFile;

    @Option(names = "--etcd-cert-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "PEM client certificate to present to etcd")
    Path certFile;

    @Option(names = "--etcd-key-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "its PEM private key (mode 0600)")
    Path keyFile;

    @Option(names = "--etcd-user", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "etcd user (needs --etcd-password-file)")
    String user;

    @Option(names = "--etcd-password-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "file holding the etcd user's password (mode 0600)")
    Path passwordFile;

    /** The etcd settings a configuration file can carry; the programs' config records implement it. */
    public interface FileSettings {
        String etcdCaFile();

        String etcdCertFile();

        String etcdKeyFile();

        String etcdUser();

        String etcdPasswordFile();
    }

    /** The flags over the file's settings, for {@code endpoints} (already resolved). */
    public EtcdAccess access(List<URI> endpoints, FileSettings file) {
        return new EtcdAccess(endpoints, path(caFile, file.etcdCaFile()), path(certFile, file.etcdCertFile()),
                path(keyFile, file.etcdKeyFile()), first(user, file.etcdUser(), null), path(passwordFile, file.etcdPasswordFile()));
    }

    private static Path path(Path flag, String file) {
        return flag != null ? flag : file == null ? null : Path.of(file);
    }
}
