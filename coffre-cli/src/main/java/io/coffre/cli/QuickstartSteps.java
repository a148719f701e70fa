package io.coffre.cli;

import static io.coffre.cli.Walkthrough.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.cli.Arm.VaultKind;
import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * The walkthrough {@code coffre quickstart} runs against a fresh server, through the same client code as the
 * commands: the key service here, then the platform ({@link PlatformQuickstartSteps}), then the audit log. Each step
 * checks what it got back; later features add their steps to {@link #walkthrough}.
 */
final class QuickstartSteps {
    static final String GROUP = "rg-quickstart";
    static final String LOCATION = "uaenorth";
    static final String VAULT = "quickkv";
    static final String HSM = "quickhsm";
    static final String KEY = "cvmkey";
    static final String BACKUP_ROLE = "Quickstart Key Backup";
    static final String BACKUP_MANAGEMENT_SERVICE = "262044b1-e2ce-469f-a196-69ab7ada62d3";
    static final String COMPUTE = "Microsoft.Compute";
    static final String CVM_RESTORE_POINTS = "RestorePointSupportForConfidentialVMV2";
    private static final String DATA_ACTION = "Microsoft.KeyVault/managedHsm/";

    private final Session session;
    private final SecureRandom random = new SecureRandom();
    private String me;
    private String firstVersion;
    private String backupRoleId;
    private byte[] backup;
    private Set<String> versionsBeforeBackup;
    private String thumbprintBeforeBackup;
    private KeyPair runtimeKey;
    private String attestationToken;

    private QuickstartSteps(Session session) {
        this.session = session;
    }

    static Walkthrough walkthrough(Session session) {
        QuickstartSteps s = new QuickstartSteps(session);
        Walkthrough keyService = new Walkthrough()
                .step("register the preview feature " + COMPUTE + "/" + CVM_RESTORE_POINTS, s::registerFeature)
                .step("create resource group " + GROUP + " in " + LOCATION, s::createGroup)
                .step("create premium key vault " + VAULT + " with purge protection", s::createVault)
                .step("create managed HSM " + HSM + " with you as administrator", s::createHsm)
                .step("give you Managed HSM Crypto Officer and Crypto User on " + HSM, s::grantCryptoRoles)
                .step("create exportable RSA-HSM 3072 key " + KEY + " with the default CVM release policy",
                        s::createKey)
                .step("create custom role '" + BACKUP_ROLE + "' (keys/read, keys/backup)", s::createBackupRole)
                .step("assign it to Backup Management Service at /keys/" + KEY, s::assignBackupRole)
                .step("wrap and unwrap a random 32-byte key with RSA-OAEP-256", s::wrapAndUnwrap)
                .step("sign a SHA-256 digest (RS256) and verify it on the server and locally", s::signAndVerify)
                .step("rotate " + KEY, s::rotate)
                .step("set and show its rotation policy", s::rotationPolicy)
                .step("back up " + KEY, s::backUp)
                .step("delete and purge " + KEY, s::deleteAndPurge)
                .step("restore " + KEY + " from the backup", s::restore)
                .step("get a SevSnpVm attestation token for a fresh RSA-2048 runtime key", s::attest)
                .step("release " + KEY + " to the runtime key and open it locally", s::release);
        return PlatformQuickstartSteps.addTo(keyService, session).step("verify the audit log", s::verifyAudit);
    }

    private KeyService hsm() {
        return session.managedHsm(HSM);
    }

    /** As the Azure docs have it: feature register, poll feature show until Registered, provider register. */
    private String registerFeature() {
        Arm arm = session.arm();
        String before = arm.feature(COMPUTE, CVM_RESTORE_POINTS).path("properties").path("state").asText();
        String answered = arm.registerFeature(COMPUTE, CVM_RESTORE_POINTS).path("properties").path("state").asText();
        check(answered.equals("Registering") || answered.equals(ProviderCommand.REGISTERED),
                "register answered state '" + answered + "'");
        String after = arm.feature(COMPUTE, CVM_RESTORE_POINTS).path("properties").path("state").asText();
        check(after.equals(ProviderCommand.REGISTERED), "the feature is '" + after + "' after registering");
        String provider = arm.registerProvider(COMPUTE).path("registrationState").asText();
        check(provider.equals(ProviderCommand.REGISTERED), COMPUTE + " is '" + provider + "' after registering");
        return before + " -> " + answered + " -> " + after;
    }

    private String createGroup() {
        me = session.callerObjectId();
        return session.arm().createGroup(GROUP, LOCATION).path("id").asText();
    }

    private String createVault() {
        ObjectNode body = KeyVaultCommand.vaultBody(LOCATION, session.tenantId(), "premium", me, 90, true, null);
        JsonNode vault = session.arm().putVault(VaultKind.VAULT, GROUP, VAULT, body);
        check(vault.path("properties").path("enablePurgeProtection").asBoolean(false),
                "the vault came back without purge protection: " + vault);
        return vault.path("properties").path("vaultUri").asText();
    }

    private String createHsm() {
        ObjectNode body = KeyVaultCommand.hsmBody(LOCATION, session.tenantId(), List.of(me), 90, false);
        JsonNode hsm = session.arm().putVault(VaultKind.MANAGED_HSM, GROUP, HSM, body);
        return hsm.path("properties").path("hsmUri").asText(hsm.path("id").asText());
    }

    private String grantCryptoRoles() {
        RoleApi roles = session.hsmRoles(HSM);
        roles.assign("/", "Managed HSM Crypto Officer", me);
        roles.assign("/", "Managed HSM Crypto User", me);
        return "scope /";
    }

    private String createKey() {
        ObjectNode parameters = KeyCommand.createParameters("RSA-HSM", 3072, null, null, true,
                CvmPolicy.defaultPolicy(session.attestationAuthority()), null);
        JsonNode bundle = hsm().create(KEY, parameters);
        JsonNode key = bundle.path("key");
        check(key.path("kty").asText().equals("RSA-HSM"), "expected kty RSA-HSM, got " + key.path("kty"));
        check(Jwk.integer(key, "n").bitLength() == 3072, "expected a 3072-bit modulus");
        check(bundle.path("attributes").path("exportable").asBoolean(false), "the key is not exportable");
        firstVersion = ResourceIds.lastSegment(key.path("kid").asText());
        return key.path("kid").asText();
    }

    private String createBackupRole() {
        ObjectNode definition = Json.object().put("roleName", BACKUP_ROLE)
                .put("description", "Lets Azure Backup read and back up keys.");
        definition.putArray("dataActions").add(DATA_ACTION + "keys/read/action").add(DATA_ACTION + "keys/backup/action");
        ObjectNode body = Json.object();
        body.set("properties", HsmRoleCommand.definitionProperties(definition));
        backupRoleId = UUID.randomUUID().toString();
        JsonNode created = session.hsmRoles(HSM).putDefinition("/", backupRoleId, body);
        return created.path("id").asText(backupRoleId);
    }

    private String assignBackupRole() {
        String principal = session.graph().servicePrincipal(BACKUP_MANAGEMENT_SERVICE).path("id").asText();
        check(!principal.isEmpty(), "the directory has no Backup Management Service principal");
        JsonNode assignment = session.hsmRoles(HSM).assign("/keys/" + KEY, backupRoleId, principal);
        return "assignment " + assignment.path("name").asText();
    }

    private String wrapAndUnwrap() {
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        JsonNode wrapped = hsm().operate(KEY, null, "wrapkey",
                Json.object().put("alg", "RSA-OAEP-256").put("value", Json.b64url(secret)));
        String wrappedValue = wrapped.path("value").asText();
        JsonNode unwrapped = hsm().operate(KEY, null, "unwrapkey",
                Json.object().put("alg", "RSA-OAEP-256").put("value", wrappedValue));
        check(Arrays.equals(secret, Json.unb64url(unwrapped.path("value").asText(null), "value")),
                "unwrap did not give back the wrapped bytes");
        return Json.unb64url(wrappedValue, "value").length + "-byte wrapped key, round trip equal";
    }

    private String signAndVerify() throws Exception {
        byte[] data = "Coffre quickstart".getBytes(StandardCharsets.UTF_8);
        String digest = Json.b64url(MessageDigest.getInstance("SHA-256").digest(data));
        JsonNode signed = hsm().operate(KEY, null, "sign", Json.object().put("alg", "RS256").put("value", digest));
        String signature = signed.path("value").asText();
        JsonNode verified = hsm().operate(KEY, null, "verify",
                Json.object().put("alg", "RS256").put("digest", digest).put("value", signature));
        check(verified.path("value").asBoolean(false), "the server did not verify its own signature");
        byte[] otherDigest = MessageDigest.getInstance("SHA-256").digest("something else".getBytes(StandardCharsets.UTF_8));
        JsonNode forged = hsm().operate(KEY, null, "verify", Json.object().put("alg", "RS256")
                .put("digest", Json.b64url(otherDigest)).put("value", signature));
        check(!forged.path("value").asBoolean(true), "the server verified the signature over another digest");
        Signature local = Signature.getInstance("SHA256withRSA");
        local.initVerify(publicKey(hsm().get(KEY, null).path("key")));
        local.update(data);
        check(local.verify(Base64.getUrlDecoder().decode(signature)), "the signature does not verify locally");
        return "verified by the server and by the JDK";
    }

    private String rotate() {
        String newVersion = ResourceIds.lastSegment(hsm().rotate(KEY).path("key").path("kid").asText());
        check(!newVersion.equals(firstVersion), "rotation kept version " + firstVersion);
        int count = hsm().versions(KEY).size();
        check(count == 2, "expected 2 versions after one rotation, found " + count);
        return "new version " + newVersion;
    }

    private String rotationPolicy() {
        ObjectNode policy = Json.object();
        ObjectNode action = policy.putArray("lifetimeActions").addObject();
        action.putObject("trigger").put("timeAfterCreate", "P90D");
        action.putObject("action").put("type", "Rotate");
        policy.putObject("attributes").put("expiryTime", "P2Y");
        hsm().updateRotationPolicy(KEY, policy);
        JsonNode shown = hsm().rotationPolicy(KEY);
        check(shown.path("lifetimeActions").path(0).path("trigger").path("timeAfterCreate").asText().equals("P90D")
                && shown.path("attributes").path("expiryTime").asText().equals("P2Y"),
                "the policy read back differs: " + shown);
        return "rotate 90 days after creation, expire after 2 years";
    }

    private String backUp() {
        versionsBeforeBackup = versionIds();
        thumbprintBeforeBackup = Jwk.thumbprint(hsm().get(KEY, null).path("key"));
        backup = hsm().backup(KEY);
        return backup.length + " bytes, " + versionsBeforeBackup.size() + " versions";
    }

    private String deleteAndPurge() {
        hsm().delete(KEY);
        hsm().purge(KEY);
        try {
            hsm().get(KEY, null);
        } catch (ServerError e) {
            check(e.status() == 404, "after purge, reading the key gave " + e);
            return "gone";
        }
        throw new CliError("the key can still be read after delete and purge");
    }

    private String restore() {
        hsm().restore(backup);
        Set<String> versions = versionIds();
        check(versions.equals(versionsBeforeBackup),
                "restored versions " + versions + " differ from backed-up " + versionsBeforeBackup);
        String thumbprint = Jwk.thumbprint(hsm().get(KEY, null).path("key"));
        check(thumbprint.equals(thumbprintBeforeBackup), "the restored key's thumbprint differs");
        return "same " + versions.size() + " versions, JWK thumbprint " + thumbprint;
    }

    private String attest() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        runtimeKey = generator.generateKeyPair();
        ObjectNode jwk = Jwk.rsaPublic((RSAPublicKey) runtimeKey.getPublic());
        jwk.putArray("key_ops").add("encrypt");
        attestationToken = session.attestation().token(AttestationApi.Type.SevSnpVm, jwk, null);
        JsonNode claims = Json.MAPPER.readTree(Base64.getUrlDecoder().decode(attestationToken.split("\\.")[1]));
        check(claims.path("x-ms-attestation-type").asText().equals("sevsnpvm"),
                "the token's x-ms-attestation-type is " + claims.path("x-ms-attestation-type"));
        return "issuer " + claims.path("iss").asText();
    }

    private String release() {
        JsonNode released = hsm().operate(KEY, null, "release",
                KeyCommand.releaseParameters(attestationToken, null, "RSA_AES_KEY_WRAP_256"));
        ReleasedKey.Opened opened = ReleasedKey.open(released.path("value").asText(),
                (RSAPrivateKey) runtimeKey.getPrivate());
        RSAPrivateCrtKey privateKey = ReleasedKey.rsaPrivateKey(opened.material());
        String version = opened.kid() == null ? null : ResourceIds.lastSegment(opened.kid());
        JsonNode publicJwk = hsm().get(KEY, version).path("key");
        check(ReleasedKey.matches(privateKey, publicJwk), "the released private key does not match " + opened.kid());
        return privateKey.getModulus().bitLength() + "-bit private key matches " + opened.kid();
    }

    private String verifyAudit() {
        JsonNode result = session.admin().verifyAudit();
        check(result.path("intact").asBoolean(false), "the audit log is not intact: " + result.path("problem"));
        return "intact";
    }

    private Set<String> versionIds() {
        Set<String> ids = new TreeSet<>();
        hsm().versions(KEY).forEach(item -> ids.add(ResourceIds.lastSegment(item.path("kid").asText())));
        return ids;
    }

    private static RSAPublicKey publicKey(JsonNode jwk) throws Exception {
        return (RSAPublicKey) KeyFactory.getInstance("RSA")
                .generatePublic(new RSAPublicKeySpec(Jwk.integer(jwk, "n"), Jwk.integer(jwk, "e")));
    }
}
