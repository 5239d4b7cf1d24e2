package io.keymesh.runtime.etcd;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * How a program reaches etcd: the client URLs and, optionally, TLS (a CA to verify the members
 * with, a client certificate and key to show them) and etcd's user/password authentication. The
 * password itself is never held here, only the file it is read from when the client is opened.
 *
 * <p>Checked when made, so a half-configured connection is one clear error at start rather than
 * a handshake failure retried forever.
 *
 * @param caFile       PEM certificates to verify the etcd members with (null: the JVM's trusted CAs)
 * @param certFile     PEM client certificate (chain) presented to etcd, or null
 * @param keyFile      its PEM private key (PKCS#8, PKCS#1 or SEC1; mode 0600), or null
 * @param user         etcd user, or null (with a client certificate and no user, etcd takes the
 *                     certificate's common name as the user)
 * @param passwordFile 0600 file whose one line is the user's password, or null
 */
public record EtcdAccess(List<URI> endpoints, Path caFile, Path certFile, Path keyFile, String user, Path passwordFile) {

    public EtcdAccess {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint given: set --endpoints or 'endpoints' in the config file");
        }
        Set<String> schemes = endpoints.stream().map(e -> String.valueOf(e.getScheme())).collect(Collectors.toSet());
        if (!Set.of("http").containsAll(schemes) && !Set.of("https").containsAll(schemes)) {
            throw new IllegalArgumentException("etcd endpoints " + endpoints + " must be all http:// or all https://");
        }
        boolean https = schemes.contains("https");
        if ((certFile == null) != (keyFile == null)) {
            throw new IllegalArgumentException("an etcd client certificate needs both etcdCertFile and etcdKeyFile (--etcd-cert-file, "
                    + "--etcd-key-file); only " + (certFile == null ? "the key" : "the certificate") + " is set");
        }
        if (!https && (caFile != null || certFile != null)) {
            throw new IllegalArgumentException("etcd TLS files are set but the endpoints " + endpoints
                    + " are plain http://; write them as https://");
        }
        if (user != null && user.isBlank()) {
            throw new IllegalArgumentException("the etcd user name is empty");
        }
        if ((user == null) != (passwordFile == null)) {
            throw new IllegalArgumentException(user == null
                    ? "an etcd password file is set but no etcd user (--etcd-user, etcdUser)"
                    : "etcd user '" + user + "' needs a password file (--etcd-password-file, etcdPasswordFile; mode 0600); "
                            + "passwords are never taken on the command line");
        }
        if (user != null && !https) {
            throw new IllegalArgumentException("etcd user '" + user + "' would send its password in the clear to " + endpoints
                    + "; use https:// endpoints");
        }
    }

    /** Plain http endpoints and no authentication: etcd's defaults, for a local or test setup. */
    public static EtcdAccess plain(List<URI> endpoints) {
        return new EtcdAccess(endpoints, null, null, null, null, null);
    }

    public boolean tls() {
        return "https".equals(endpoints.get(0).getScheme());
    }

    /** For the start-up log line: the endpoints and how the program authenticates, never a secret. */
    public String describe() {
        StringBuilder out = new StringBuilder(endpoints.toString());
        if (tls()) {
            out.append(" over TLS").append(caFile == null ? " (system CAs)" : "");
            if (certFile != null) {
                out.append(", client certificate ").append(certFile);
            }
        }
        if (user != null) {
            out.append(", user ").append(user);
        }
        return out.toString();
    }
}
