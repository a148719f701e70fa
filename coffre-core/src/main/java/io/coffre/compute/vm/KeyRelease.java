package io.coffre.compute.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.attestation.AttestationService;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.compute.KeyUrl;
import io.coffre.identity.Directory;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.crypto.SecureKeyRelease;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Secure key release as the platform runs it when a CMK confidential VM is created or started: as the Confidential
 * VM Orchestrator, attest the VM (a fresh RSA runtime key in the token), ask the key service to release the DES's
 * active key version to it, open the released key with the runtime key and check it is the key's private half.
 */
final class KeyRelease {
    static final String FORBIDDEN = "ConfidentialVmKeyReleaseForbidden";
    static final String POLICY_NOT_SATISFIED = "ConfidentialVmKeyReleasePolicyNotSatisfied";
    static final String DES_NOT_FOUND = "DiskEncryptionSetNotFound";
    private static final String ENC = "RSA_AES_KEY_WRAP_256";
    private static final int RUNTIME_KEY_BITS = 2048;

    private final DiskEncryptionSets encryptionSets;
    private final KeyService keys;
    private final AttestationService attestation;
    private final Directory directory;
    private final Endpoints endpoints;

    KeyRelease(DiskEncryptionSets encryptionSets, KeyService keys, AttestationService attestation,
               Directory directory, Endpoints endpoints) {
        this.encryptionSets = encryptionSets;
        this.keys = keys;
        this.attestation = attestation;
        this.directory = directory;
        this.endpoints = endpoints;
    }

    /**
     * Releases the active key of {@code desId} to the VM.
     *
     * @param attestationType {@code SevSnpVm} or {@code TdxVm}, by the VM size's hardware
     * @throws ArmException 403 {@link #FORBIDDEN} when the orchestrator lacks the release permission, 403
     *                      {@link #POLICY_NOT_SATISFIED} when the key's release policy refuses the VM's claims, 404
     *                      {@link #DES_NOT_FOUND}, or the key service's own error (key gone, not exportable ...)
     */
    void release(String desId, String vmId, String attestationType) {
        DiskEncryptionSets.ActiveKey active = encryptionSets.activeKey(desId).orElseThrow(() ->
                ArmException.notFound(DES_NOT_FOUND, "The disk encryption set " + desId + " of the confidential OS "
                        + "disk does not exist; its key cannot be released to the VM."));
        KeyUrl key = KeyUrl.parse(active.keyUrl(), endpoints);
        Principal orchestrator = directory.find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow(() ->
                new IllegalStateException("the Confidential VM Orchestrator principal is missing"));
        KeyPair runtimeKey = runtimeKey();
        String token = attestation.issue(attestationType, publicJwk((RSAPublicKey) runtimeKey.getPublic()), vmId,
                null);
        ObjectNode request = Json.object().put("target", token).put("enc", ENC);
        JsonNode released;
        try {
            released = keys.keyOperation(orchestrator, key.store(), key.name(), key.version(), "release", request);
        } catch (ArmException e) {
            throw refused(e, key, desId);
        }
        RSAPrivateCrtKey privateKey = open(released.path("value").asText(), runtimeKey);
        checkMatches(privateKey, key, active);
    }

    private static ArmException refused(ArmException e, KeyUrl key, String desId) {
        if (e.status() != 403) {
            return new ArmException(e.status(), e.code(), "Releasing key " + key.text() + " of disk encryption set "
                    + desId + " to the VM failed: " + e.getMessage());
        }
        if (e.getMessage().contains("release policy")) {
            return new ArmException(403, POLICY_NOT_SATISFIED, "The release policy of key " + key.text() + " (disk "
                    + "encryption set " + desId + ") does not accept this confidential VM's attestation: "
                    + e.getMessage() + " Give the key a release policy its claims satisfy (the default CVM policy "
                    + "requires x-ms-attestation-type sevsnpvm or tdxvm and x-ms-compliance-status "
                    + AttestationService.AZURE_COMPLIANT_CVM + " from this Coffre's attestation authority).");
        }
        String grant = key.store().kind() == KeyService.Store.Kind.MANAGED_HSM
                ? "the role 'Managed HSM Crypto Service Release User' at scope /keys/" + key.name() + " of managed HSM "
                + key.store().name()
                : "'get' and 'release' key permissions in an access policy of key vault " + key.store().name()
                + " (or, on an RBAC vault, the role 'Key Vault Crypto Service Release User' on the key)";
        return new ArmException(403, FORBIDDEN, "The Confidential VM Orchestrator (appId "
                + Directory.CVM_ORCHESTRATOR_APP_ID + ") may not release key " + key.text() + " of disk encryption "
                + "set " + desId + ", so the confidential VM cannot get its key: " + e.getMessage() + " Grant it "
                + grant + ".");
    }

    private static KeyPair runtimeKey() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(RUNTIME_KEY_BITS);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an RSA runtime key", e);
        }
    }

    private static Map<String, Object> publicJwk(RSAPublicKey key) {
        Map<String, Object> jwk = new LinkedHashMap<>();
        jwk.put("kty", "RSA");
        jwk.put("kid", "TpmEphemeralEncryptionKey");
        jwk.put("key_ops", List.of("encrypt"));
        jwk.put("n", Json.b64url(unsigned(key.getModulus())));
        jwk.put("e", Json.b64url(unsigned(key.getPublicExponent())));
        return jwk;
    }

    private static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return bytes[0] == 0 && bytes.length > 1 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }

    /** Opens the release token's {@code response.key.key.key_hsm} with the runtime key, as the VM's vTPM would. */
    private static RSAPrivateCrtKey open(String releaseToken, KeyPair runtimeKey) {
        String[] parts = releaseToken.split("\\.");
        if (parts.length != 3) {
            throw new IllegalStateException("the key service's release result is not a compact JWS");
        }
        JsonNode payload = Json.parse(new String(Json.unb64url(parts[1], "release payload"), StandardCharsets.UTF_8));
        JsonNode keyHsm = Json.parse(new String(Json.unb64url(payload.path("response").path("key").path("key")
                .path("key_hsm").asText(), "key_hsm"), StandardCharsets.UTF_8));
        byte[] pkcs8 = SecureKeyRelease.unwrap(Json.unb64url(keyHsm.path("ciphertext").asText(), "ciphertext"),
                runtimeKey.getPrivate(), payload.path("request").path("enc").asText(ENC));
        try {
            return (RSAPrivateCrtKey) KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException | ClassCastException e) {
            throw ArmException.badRequest("InvalidParameter", "The released key is not an RSA private key; a "
                    + "confidential VM's customer key must be RSA-HSM.");
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /** The public half is read as the DES identity, which reads the key to use it anyway. */
    private void checkMatches(RSAPrivateCrtKey privateKey, KeyUrl key, DiskEncryptionSets.ActiveKey active) {
        Principal des = directory.find(active.principalId()).orElseThrow(() ->
                new IllegalStateException("the identity of disk encryption set " + active.desId() + " is missing"));
        JsonNode jwk = keys.getKey(des, key.store(), key.name(), key.version()).path("key");
        BigInteger n = new BigInteger(1, Json.unb64url(jwk.path("n").asText(), "n"));
        BigInteger e = new BigInteger(1, Json.unb64url(jwk.path("e").asText(), "e"));
        if (!privateKey.getModulus().equals(n) || !privateKey.getPublicExponent().equals(e)) {
            throw new IllegalStateException("the key released for " + key.text() + " is not that key's private half");
        }
    }
}
