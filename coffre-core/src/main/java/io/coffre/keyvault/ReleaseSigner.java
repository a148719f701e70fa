package io.coffre.keyvault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.Base64URL;
import io.coffre.Endpoints;
import io.coffre.json.Json;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.jdbi.v3.core.Handle;

/**
 * The key service's release-signing key: an RSA key (sealed by the master key in the metadata store) with a
 * self-signed certificate naming the vault and HSM hosts. Key releases are JWS (RS256) signed by it and carry the
 * certificate in {@code x5c}, as Key Vault's release responses do.
 */
final class ReleaseSigner {
    private static final Duration VALIDITY = Duration.ofDays(20 * 365);

    private final String kid;
    private final PrivateKey privateKey;
    private final X509Certificate certificate;

    private ReleaseSigner(String kid, PrivateKey privateKey, X509Certificate certificate) {
        this.kid = kid;
        this.privateKey = privateKey;
        this.certificate = certificate;
    }

    /** Loads the signing key, creating it on first use; with concurrent first starts, the oldest one wins. */
    static ReleaseSigner open(MetadataStore metadata, Sealer master, Endpoints endpoints, CoffreClock clock) {
        if (metadata.withHandle(h -> count(h)) == 0) {
            Generated generated = generate(endpoints, clock.now());
            metadata.inTransaction(h -> h.createUpdate("INSERT INTO kv_release_signing_keys (kid, sealed_key,"
                            + " certificate, created_at) VALUES (:kid, :sealed, :cert, :now)")
                    .bind("kid", generated.kid)
                    .bind("sealed", master.seal(generated.pair.getPrivate().getEncoded(), context(generated.kid)))
                    .bind("cert", generated.certificate).bind("now", clock.now().getEpochSecond()).execute());
        }
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM kv_release_signing_keys"
                        + " ORDER BY created_at, kid LIMIT 1")
                .map((rs, ctx) -> load(rs.getString("kid"), master.open(rs.getBytes("sealed_key"),
                        context(rs.getString("kid"))), rs.getBytes("certificate")))
                .one());
    }

    /** Compact JWS of {@code payload}: header {@code alg RS256, kid, x5c, x5t#S256}. */
    String sign(ObjectNode payload) {
        try {
            byte[] der = certificate.getEncoded();
            JWSHeader header = new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid)
                    .x509CertChain(List.of(Base64.encode(der)))
                    .x509CertSHA256Thumbprint(Base64URL.encode(MessageDigest.getInstance("SHA-256").digest(der)))
                    .build();
            JWSObject jws = new JWSObject(header, new Payload(Json.write(payload)));
            jws.sign(new RSASSASigner(privateKey));
            return jws.serialize();
        } catch (GeneralSecurityException | JOSEException e) {
            throw new IllegalStateException("cannot sign a key release", e);
        }
    }

    private static int count(Handle h) {
        return h.createQuery("SELECT COUNT(*) FROM kv_release_signing_keys").mapTo(Integer.class).one();
    }

    private record Generated(String kid, KeyPair pair, byte[] certificate) {
    }

    private static Generated generate(Endpoints endpoints, Instant now) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=Coffre key release, O=Coffre");
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject,
                    new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofDays(1))),
                    Date.from(now.plus(VALIDITY)), subject, pair.getPublic());
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                    new GeneralName(GeneralName.dNSName, "*.vault." + endpoints.dnsSuffix()),
                    new GeneralName(GeneralName.dNSName, "*.managedhsm." + endpoints.dnsSuffix())}));
            byte[] certificate = builder.build(new JcaContentSignerBuilder("SHA256withRSA")
                    .build(pair.getPrivate())).getEncoded();
            return new Generated(UUID.randomUUID().toString().replace("-", ""), pair, certificate);
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot generate the key-release signing key", e);
        }
    }

    private static ReleaseSigner load(String kid, byte[] pkcs8, byte[] certificate) {
        try {
            PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(certificate));
            return new ReleaseSigner(kid, key, cert);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the stored key-release signing key is unreadable", e);
        }
    }

    private static byte[] context(String kid) {
        return ("key-release-signing:" + kid).getBytes(StandardCharsets.UTF_8);
    }
}
