package io.keymesh.testing.tls;

import io.keymesh.schema.keyfile.KeyFiles;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority for a TLS etcd: a CA, server certificates for the members'
 * addresses and client certificates whose common name is the etcd user. Keys are P-256, written
 * the way cfssl and {@code openssl ecparam} write them (SEC1, "EC PRIVATE KEY") or as PKCS#8
 * ("PRIVATE KEY"), so both forms the programs must read are exercised.
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final KeyPair caKeys;
    private final X509Certificate ca;

    /** Files of one certificate: the certificate and its private key (mode 0600). */
    public record CertFiles(Path cert, Path key) {
    }

    private TestPki(Path dir, KeyPair caKeys, X509Certificate ca) {
        this.dir = dir;
        this.caKeys = caKeys;
        this.ca = ca;
    }

    public static TestPki create(Path dir) throws Exception {
        Files.createDirectories(dir);
        KeyPair keys = keyPair();
        X500Name name = new X500Name("CN=keymesh test etcd CA");
        X509v3CertificateBuilder builder = builder(name, name, keys);
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate ca = sign(builder, keys);
        TestPki pki = new TestPki(dir, keys, ca);
        Files.writeString(pki.caFile(), pem(ca));
        return pki;
    }

    public Path dir() {
        return dir;
    }

    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    /** A server certificate for {@code addresses} (IP subject alternative names). */
    public CertFiles server(String name, String... addresses) throws Exception {
        KeyPair keys = keyPair();
        X509v3CertificateBuilder builder = leaf(name, keys, KeyPurposeId.id_kp_serverAuth);
        GeneralName[] names = new GeneralName[addresses.length];
        for (int i = 0; i < addresses.length; i++) {
            names[i] = new GeneralName(GeneralName.iPAddress, addresses[i]);
        }
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        return write(name, sign(builder, caKeys), keys, true);
    }

    /** A client certificate whose common name is {@code user}; {@code pkcs8} chooses the key file's form. */
    public CertFiles client(String user, boolean pkcs8) throws Exception {
        KeyPair keys = keyPair();
        return write(user, sign(leaf(user, keys, KeyPurposeId.id_kp_clientAuth), caKeys), keys, !pkcs8);
    }

    private X509v3CertificateBuilder leaf(String commonName, KeyPair keys, KeyPurposeId purpose) throws Exception {
        X509v3CertificateBuilder builder = builder(new X500Name(ca.getSubjectX500Principal().getName()),
                new X500Name("CN=" + commonName), keys);
        builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        return builder;
    }

    private CertFiles write(String name, X509Certificate cert, KeyPair keys, boolean sec1) throws IOException {
        Path certFile = dir.resolve(name + ".pem");
        Path keyFile = dir.resolve(name + "-key.pem");
        Files.writeString(certFile, pem(cert));
        StringWriter key = new StringWriter();
        try (PemWriter writer = new PemWriter(key)) {
            writer.writeObject(sec1 ? new PemObject("EC PRIVATE KEY", sec1(keys)) : new PemObject("PRIVATE KEY", keys.getPrivate().getEncoded()));
        }
        KeyFiles.writeSecret(keyFile, key.toString().strip(), true);
        return new CertFiles(certFile, keyFile);
    }

    /** SEC1 with the curve and public key in it, as openssl and cfssl write it (the JDK's PKCS#8 carries neither inside). */
    private static byte[] sec1(KeyPair keys) throws IOException {
        PrivateKeyInfo info = PrivateKeyInfo.getInstance(keys.getPrivate().getEncoded());
        org.bouncycastle.asn1.sec.ECPrivateKey inner = org.bouncycastle.asn1.sec.ECPrivateKey.getInstance(info.parsePrivateKey());
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
        return new org.bouncycastle.asn1.sec.ECPrivateKey(256, inner.getKey(), publicKey.getPublicKeyData(),
                info.getPrivateKeyAlgorithm().getParameters()).getEncoded();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), subject, keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }
}
