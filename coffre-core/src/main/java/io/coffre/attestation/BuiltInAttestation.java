package io.coffre.attestation;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Issues MAA-shaped attestation tokens (reference: the paravisor SEV-SNP / TDX token and the guest token) and
 * verifies them. Coffre has no hardware report to appraise: the caller (the platform acting as the Confidential VM
 * Orchestrator, or the admin) vouches for the VM, and the token binds the VM's runtime key to that statement.
 */
final class BuiltInAttestation implements AttestationService {
    private static final Duration TOKEN_LIFETIME = Duration.ofHours(8);
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern SIMPLE_VALUE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** Coffre's one appraisal policy, in MAA policy language; its hash goes into every token. */
    private static final String POLICY = "version= 1.0; authorizationrules { => permit(); };"
            + " issuancerules { };";

    private enum Kind {
        SEV_SNP(SEV_SNP_VM, "sevsnpvm"), TDX(TDX_VM, "tdxvm"), GUEST(AZURE_GUEST, "azurevm");

        final String path;
        final String claim;

        Kind(String path, String claim) {
            this.path = path;
            this.claim = claim;
        }

        static Kind of(String type) {
            for (Kind k : values()) {
                if (k.path.equalsIgnoreCase(type)) {
                    return k;
                }
            }
            throw ArmException.badRequest("BadParameter", "Unknown attestation type '" + type + "'; use "
                    + SEV_SNP_VM + ", " + TDX_VM + " or " + AZURE_GUEST + ".");
        }
    }

    private final String issuer;
    private final CoffreClock clock;
    private final AttestationSigningKey signingKey;
    private final String policyHash;

    BuiltInAttestation(MetadataStore metadata, Sealer sealer, Endpoints endpoints, CoffreClock clock) {
        this.issuer = endpoints.attestationIssuer();
        this.clock = clock;
        this.signingKey = AttestationSigningKey.loadOrCreate(metadata, sealer, issuer, clock.now());
        this.policyHash = Json.b64url(sha256(POLICY.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public String issue(String type, Map<String, Object> runtimeKeyJwk, String vmId, String complianceStatus) {
        Kind kind = Kind.of(type);
        RSAKey runtimeKey = runtimeKey(runtimeKeyJwk);
        if (vmId != null && !SIMPLE_VALUE.matcher(vmId).matches()) {
            throw ArmException.badRequest("BadParameter",
                    "vmId must be 1–64 letters, digits, '.', '_' or '-' (the VM's unique id, usually a GUID).");
        }
        String compliance = complianceStatus == null ? AZURE_COMPLIANT_CVM : complianceStatus;
        if (!SIMPLE_VALUE.matcher(compliance).matches()) {
            throw ArmException.badRequest("BadParameter", "complianceStatus must be 1–64 letters, digits, '.', '_'"
                    + " or '-', e.g. " + AZURE_COMPLIANT_CVM + ".");
        }
        Instant now = clock.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder()
                .issuer(issuer)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now))
                .expirationTime(Date.from(now.plus(TOKEN_LIFETIME)))
                .jwtID(HexFormat.of().formatHex(randomBytes(32)))
                .claim("x-ms-ver", "1.0")
                .claim("x-ms-policy-hash", policyHash);
        Map<String, Object> vmConfiguration = vmConfiguration(vmId);
        if (kind == Kind.GUEST) {
            // The guest token: the VM's vTPM key at top level, the hardware (here: SEV-SNP) statement nested.
            Map<String, Object> runtime = Map.of("keys", List.of(jwk(runtimeKey, "TpmEphemeralEncryptionKey")));
            Map<String, Object> tee = new LinkedHashMap<>();
            tee.put("x-ms-attestation-type", Kind.SEV_SNP.claim);
            tee.put("x-ms-compliance-status", compliance);
            tee.put("x-ms-runtime", Map.of("vm-configuration", vmConfiguration));
            tee.putAll(sevSnpClaims(runtime));
            claims.claim("x-ms-attestation-type", kind.claim)
                    .claim("secureboot", true)
                    .claim("x-ms-azurevm-is-debuggable", false)
                    .claim("x-ms-runtime", runtime)
                    .claim("x-ms-isolation-tee", tee);
            if (vmId != null) {
                claims.claim("x-ms-azurevm-vmid", vmId);
            }
        } else {
            Map<String, Object> runtime = new LinkedHashMap<>();
            runtime.put("keys", List.of(jwk(runtimeKey, "HCLTransferKey")));
            runtime.put("vm-configuration", vmConfiguration);
            claims.claim("x-ms-attestation-type", kind.claim)
                    .claim("x-ms-compliance-status", compliance)
                    .claim("x-ms-runtime", runtime);
            (kind == Kind.SEV_SNP ? sevSnpClaims(runtime) : tdxClaims(runtime)).forEach(claims::claim);
        }
        return sign(claims.build());
    }

    private static RSAKey runtimeKey(Map<String, Object> jwk) {
        if (jwk == null || jwk.isEmpty()) {
            throw ArmException.badRequest("BadParameter",
                    "runtimeKey is required: the VM's RSA public key as a JWK {\"kty\":\"RSA\",\"n\",\"e\"}.");
        }
        JWK parsed;
        try {
            parsed = JWK.parse(jwk);
        } catch (ParseException | RuntimeException e) {
            throw ArmException.badRequest("BadParameter", "runtimeKey is not a valid JWK (" + e.getMessage()
                    + "); send {\"kty\":\"RSA\",\"n\":\"<base64url>\",\"e\":\"<base64url>\"}.");
        }
        if (!(parsed instanceof RSAKey rsa)) {
            throw ArmException.badRequest("BadParameter", "runtimeKey must be an RSA key (kty RSA); got kty "
                    + parsed.getKeyType() + ".");
        }
        if (rsa.isPrivate()) {
            throw ArmException.badRequest("BadParameter",
                    "runtimeKey contains private key parts; send only the public part (kty, n, e).");
        }
        if (rsa.size() < 2048) {
            throw ArmException.badRequest("BadParameter", "runtimeKey is a " + rsa.size()
                    + "-bit RSA key; released keys are wrapped to 2048-bit (or larger) runtime keys.");
        }
        return rsa;
    }

    private static Map<String, Object> jwk(RSAKey key, String kid) {
        Map<String, Object> jwk = new LinkedHashMap<>();
        jwk.put("kid", kid);
        jwk.put("kty", "RSA");
        jwk.put("e", key.getPublicExponent().toString());
        jwk.put("n", key.getModulus().toString());
        jwk.put("key_ops", List.of("encrypt"));
        return jwk;
    }

    private static Map<String, Object> vmConfiguration(String vmId) {
        Map<String, Object> configuration = new LinkedHashMap<>();
        configuration.put("console-enabled", false);
        configuration.put("secure-boot", true);
        configuration.put("tpm-enabled", true);
        if (vmId != null) {
            configuration.put("vmUniqueId", vmId);
        }
        return configuration;
    }

    /** As the HCL does, the report data binds the runtime claims: SHA-256 of their JSON, zero-padded to 64 bytes. */
    private static String reportData(Map<String, Object> runtime) {
        byte[] reportData = new byte[64];
        byte[] digest = sha256(Json.write(runtime).getBytes(StandardCharsets.UTF_8));
        System.arraycopy(digest, 0, reportData, 0, digest.length);
        return HexFormat.of().formatHex(reportData);
    }

    private static Map<String, Object> sevSnpClaims(Map<String, Object> runtime) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("x-ms-sevsnpvm-is-debuggable", false);
        claims.put("x-ms-sevsnpvm-migration-allowed", false);
        claims.put("x-ms-sevsnpvm-vmpl", 0);
        claims.put("x-ms-sevsnpvm-reportdata", reportData(runtime));
        return claims;
    }

    private static Map<String, Object> tdxClaims(Map<String, Object> runtime) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("attester_tcb_status", "UpToDate");
        claims.put("dbgstat", "disabled");
        claims.put("eat_profile", "https://aka.ms/maa-eat-profile-tdxvm");
        claims.put("tdx_report_data", reportData(runtime));
        return claims;
    }

    private String sign(JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256)
                .type(JOSEObjectType.JWT)
                .jwkURL(URI.create(issuer + "/certs"))
                .keyID(signingKey.kid())
                .build(), claims);
        try {
            jwt.sign(new RSASSASigner(signingKey.privateKey()));
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    @Override
    public Map<String, Object> verify(String token) {
        SignedJWT jwt;
        JWTClaimsSet claims;
        try {
            jwt = SignedJWT.parse(token == null ? "" : token.trim());
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            throw ArmException.badRequest("BadParameter", "The attestation token is not a JWS in compact"
                    + " serialization (" + e.getMessage() + "); pass the token the attestation service returned.");
        }
        if (!JWSAlgorithm.RS256.equals(jwt.getHeader().getAlgorithm())) {
            throw ArmException.badRequest("BadParameter", "The attestation token is signed with "
                    + jwt.getHeader().getAlgorithm() + "; only RS256 attestation tokens are accepted.");
        }
        String tokenIssuer = claims.getIssuer();
        if (tokenIssuer == null || !withoutTrailingSlash(tokenIssuer).equalsIgnoreCase(issuer)) {
            throw ArmException.forbidden("AttestationTokenUntrusted", "The attestation token was issued by "
                    + tokenIssuer + "; this key service trusts only " + issuer + ". Attest at " + issuer + ".");
        }
        if (!signingKey.kid().equals(jwt.getHeader().getKeyID()) || !verifies(jwt)) {
            throw ArmException.forbidden("AttestationTokenInvalidSignature", "The attestation token's signature"
                    + " does not verify against the keys at " + issuer + "/certs; it was altered or not issued"
                    + " there. Attest again.");
        }
        Instant now = clock.now();
        Date expires = claims.getExpirationTime();
        if (expires == null || expires.toInstant().isBefore(now.minus(CLOCK_SKEW))) {
            throw ArmException.forbidden("AttestationTokenExpired", "The attestation token "
                    + (expires == null ? "has no expiry (exp)" : "expired at " + expires.toInstant())
                    + " and it is now " + now + "; attest again for a fresh token.");
        }
        Date notBefore = claims.getNotBeforeTime();
        if (notBefore != null && notBefore.toInstant().isAfter(now.plus(CLOCK_SKEW))) {
            throw ArmException.forbidden("AttestationTokenNotYetValid", "The attestation token is valid only from "
                    + notBefore.toInstant() + " and it is now " + now + "; check the clocks.");
        }
        return claims.toJSONObject();
    }

    private boolean verifies(SignedJWT jwt) {
        try {
            return jwt.verify(new RSASSAVerifier(signingKey.publicKey()));
        } catch (JOSEException e) {
            return false;
        }
    }

    private static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    @Override
    public String openIdConfiguration(String baseUrl) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("issuer", issuer);
        document.put("jwks_uri", withoutTrailingSlash(baseUrl) + "/certs");
        document.put("response_types_supported", List.of("token", "none"));
        document.put("id_token_signing_alg_values_supported", List.of("RS256"));
        document.put("claims_supported", List.of("iss", "iat", "nbf", "exp", "jti", "x-ms-ver", "x-ms-policy-hash",
                "x-ms-attestation-type", "x-ms-compliance-status", "x-ms-runtime", "x-ms-isolation-tee",
                "x-ms-sevsnpvm-is-debuggable", "x-ms-sevsnpvm-vmpl", "x-ms-sevsnpvm-reportdata",
                "x-ms-azurevm-vmid", "secureboot", "attester_tcb_status", "dbgstat", "tdx_report_data"));
        return Json.write(document);
    }

    @Override
    public String jwks() {
        RSAKey key = new RSAKey.Builder(signingKey.publicKey())
                .keyID(signingKey.kid())
                .keyUse(KeyUse.SIGNATURE)
                .algorithm(JWSAlgorithm.RS256)
                .x509CertChain(List.of(Base64.encode(AttestationSigningKey.encoded(signingKey.certificate()))))
                .build();
        return new JWKSet(key).toString();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        RANDOM.nextBytes(bytes);
        return bytes;
    }
}
