package io.coffre.server;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The server's TLS identity: the user's PEM certificate and key, or a self-signed certificate generated on first
 * start into the data directory whose names cover every host Coffre answers for (vaults, HSMs, attestation, login).
 */
public final class TlsMaterial {
    public static final String CERT_FILE = "tls-cert.pem";
    public static final String KEY_FILE = "tls-key.pem";

    private final X509Certificate certificate;
    private final PrivateKey privateKey;

    private TlsMaterial(X509Certificate certificate, PrivateKey privateKey) {
        this.certificate = certificate;
        this.privateKey = privateKey;
    }

    public static TlsMaterial loadOrGenerate(ServerConfig config) {
        if (config.tlsCert() != null) {
            return load(config.tlsCert(), config.tlsKey());
        }
        Path cert = config.dataDir().resolve(CERT_FILE);
        Path key = config.dataDir().resolve(KEY_FILE);
        if (Files.exists(cert) && Files.exists(key)) {
            return load(cert, key);
        }
        TlsMaterial generated = generate(config.dnsSuffix());
        generated.write(cert, key);
        return generated;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** A PKCS#12 key store holding the key and certificate, for Jetty. */
    public KeyStore keyStore(char[] password) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("coffre", privateKey, password, new java.security.cert.Certificate[] {certificate});
            return ks;
        } catch (Exception e) {
            throw new IllegalStateException("cannot build the TLS key store", e);
        }
    }

    static TlsMaterial generate(String dnsSuffix) {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
            gen.initialize(256);
            KeyPair pair = gen.generateKeyPair();
            List<GeneralName> names = new ArrayList<>();
            for (String dns : List.of("localhost", dnsSuffix, "*." + dnsSuffix, "*.vault." + dnsSuffix,
                    "*.managedhsm." + dnsSuffix, "vault." + dnsSuffix, "managedhsm." + dnsSuffix)) {
                names.add(new GeneralName(GeneralName.dNSName, dns));
            }
            names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
            names.add(new GeneralName(GeneralName.iPAddress, "::1"));
            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=Coffre " + dnsSuffix);
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(Duration.ofDays(825))), subject, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            X509CertificateHolder holder = builder.build(
                    new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
            return new TlsMaterial(new JcaX509CertificateConverter().getCertificate(holder), pair.getPrivate());
        } catch (Exception e) {
            throw new IllegalStateException("cannot generate the self-signed TLS certificate", e);
        }
    }

    static TlsMaterial load(Path certFile, Path keyFile) {
        if (keyFile == null) {
            throw new IllegalArgumentException("--tls-cert needs --tls-key");
        }
        try (Reader certReader = Files.newBufferedReader(certFile); Reader keyReader = Files.newBufferedReader(keyFile);
             PEMParser certPem = new PEMParser(certReader); PEMParser keyPem = new PEMParser(keyReader)) {
            Object cert = certPem.readObject();
            if (!(cert instanceof X509CertificateHolder holder)) {
                throw new IllegalArgumentException(certFile + " holds no PEM certificate");
            }
            Object key = keyPem.readObject();
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            PrivateKey privateKey;
            if (key instanceof PEMKeyPair pemPair) {
                privateKey = converter.getKeyPair(pemPair).getPrivate();
            } else if (key instanceof PrivateKeyInfo info) {
                privateKey = converter.getPrivateKey(info);
            } else {
                throw new IllegalArgumentException(keyFile + " holds no unencrypted PEM private key");
            }
            return new TlsMaterial(new JcaX509CertificateConverter().getCertificate(holder), privateKey);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalArgumentException("cannot read certificate " + certFile + ": " + e.getMessage(), e);
        }
    }

    private void write(Path certFile, Path keyFile) {
        try {
            Files.createDirectories(certFile.getParent());
            try (Writer w = Files.newBufferedWriter(certFile); JcaPEMWriter pem = new JcaPEMWriter(w)) {
                pem.writeObject(certificate);
            }
            Files.deleteIfExists(keyFile);
            Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            // PKCS#8 ("PRIVATE KEY"): written as SEC1, the JDK's EC key lost its curve and could not be read back
            try (Writer w = Files.newBufferedWriter(keyFile); JcaPEMWriter pem = new JcaPEMWriter(w)) {
                pem.writeObject(new JcaPKCS8Generator(privateKey, null));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
