package io.coffre.attestation;

import io.coffre.json.Json;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jdbi.v3.core.Handle;

/**
 * The attestation service's RSA-2048 token signing key and its self-signed certificate (published as x5c). The
 * private key is stored sealed by the master key, bound to its kid.
 */
record AttestationSigningKey(String kid, RSAPrivateKey privateKey, X509Certificate certificate) {
    private static final String PURPOSE = "token-signing";
    private static final Duration CERTIFICATE_VALIDITY = Duration.ofDays(3650);

    RSAPublicKey publicKey() {
        return (RSAPublicKey) certificate.getPublicKey();
    }

    /** The stored key, or a new one on first use; when two nodes race to create it, the loser reads the winner's. */
    static AttestationSigningKey loadOrCreate(MetadataStore metadata, Sealer sealer, String issuer, Instant now) {
        Optional<AttestationSigningKey> stored = metadata.withHandle(h -> load(h, sealer));
        if (stored.isPresent()) {
            return stored.get();
        }
        AttestationSigningKey created = generate(issuer, now);
        try {
            metadata.inTransaction(h -> h.createUpdate("INSERT INTO attestation_signing_keys"
                            + " (purpose, kid, sealed_key, certificate, created_at)"
                            + " VALUES (:purpose, :kid, :sealed, :cert, :now)")
                    .bind("purpose", PURPOSE)
                    .bind("kid", created.kid)
                    .bind("sealed", sealer.seal(created.privateKey.getEncoded(), sealContext(created.kid)))
                    .bind("cert", encoded(created.certificate))
                    .bind("now", now.toEpochMilli())
                    .execute());
            return created;
        } catch (StoreConflictException e) {
            return metadata.withHandle(h -> load(h, sealer)).orElseThrow(() -> e);
        }
    }

    private static Optional<AttestationSigningKey> load(Handle h, Sealer sealer) {
        return h.createQuery("SELECT kid, sealed_key, certificate FROM attestation_signing_keys WHERE purpose = :p")
                .bind("p", PURPOSE)
                .map((rs, ctx) -> {
                    String kid = rs.getString("kid");
                    byte[] pkcs8 = sealer.open(rs.getBytes("sealed_key"), sealContext(kid));
                    return new AttestationSigningKey(kid, parsePrivateKey(pkcs8),
                            parseCertificate(rs.getBytes("certificate")));
                })
                .findOne();
    }

    private static byte[] sealContext(String kid) {
        return ("attestation-signing-key:" + kid).getBytes(StandardCharsets.UTF_8);
    }

    private static AttestationSigningKey generate(String issuer, Instant now) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=Coffre attestation " + issuer.replaceFirst("^https://", ""));
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(CERTIFICATE_VALIDITY)), subject, pair.getPublic());
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(builder.build(
                    new JcaContentSignerBuilder("SHA256withRSA").build(pair.getPrivate())));
            // The kid is the certificate's SHA-256 thumbprint, so it names exactly what /certs publishes.
            String kid = Json.b64url(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
            return new AttestationSigningKey(kid, (RSAPrivateKey) pair.getPrivate(), certificate);
        } catch (GeneralSecurityException | OperatorCreationException | CertIOException e) {
            throw new IllegalStateException("cannot generate the attestation signing key", e);
        }
    }

    static byte[] encoded(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static RSAPrivateKey parsePrivateKey(byte[] pkcs8) {
        try {
            return (RSAPrivateKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("stored attestation signing key is unreadable", e);
        }
    }

    private static X509Certificate parseCertificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("stored attestation certificate is unreadable", e);
        }
    }
}
