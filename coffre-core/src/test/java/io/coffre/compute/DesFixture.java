package io.coffre.compute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.arm.ArmException;
import io.coffre.catalog.SupportMatrix;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.time.ManualClock;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert;

/** A real core in a temporary directory, with the vaults, HSMs, keys and DESs the DES tests share. */
final class DesFixture implements AutoCloseable {
    static final String HSM_CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b";
    static final String HSM_CRYPTO_OFFICER = "515eb02d-2335-4d2d-92f2-b1cbdf9c3778";
    static final String HSM_SERVICE_ENCRYPTION_USER = "33413926-3206-4cdd-b39a-83574fe37a17";

    final Path dir;
    final CoffreCore core;
    final KeyService keys;
    final DiskEncryptionSets sets;
    final ManualClock clock;
    final Principal admin;
    final String subscription;

    DesFixture(Path dir) {
        this(dir, SupportMatrix.load("default"));
    }

    DesFixture(Path dir, SupportMatrix matrix) {
        this.dir = dir;
        core = CoffreCore.open(dir, null, TestCores.ENDPOINTS, new ManualClock(), matrix);
        keys = core.keyService();
        sets = core.diskEncryptionSets();
        clock = (ManualClock) core.clock();
        admin = core.identity().admin();
        subscription = core.identity().defaultSubscriptionId();
        core.resourceManager().putResourceGroup(admin, subscription, "rg", "uaenorth", Map.of());
    }

    Store vault(String name, String sku, boolean purgeProtection, String location) {
        ObjectNode body = Json.object().put("location", location);
        ObjectNode p = body.putObject("properties");
        p.putObject("sku").put("family", "A").put("name", sku);
        p.put("tenantId", core.identity().tenantId());
        if (purgeProtection) {
            p.put("enablePurgeProtection", true);
        }
        p.putArray("accessPolicies").add(accessPolicy(admin, "all"));
        keys.putStore(admin, subscription, "rg", Store.vault(name), body);
        return Store.vault(name);
    }

    Store hsm(String name) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        body.putObject("sku").put("family", "B").put("name", "Standard_B1");
        ObjectNode p = body.putObject("properties");
        p.putArray("initialAdminObjectIds").add(admin.objectId());
        p.put("enablePurgeProtection", true);
        Store store = Store.hsm(name);
        keys.putStore(admin, subscription, "rg", store, body);
        assign(store, "/", HSM_CRYPTO_USER, admin);
        assign(store, "/", HSM_CRYPTO_OFFICER, admin);
        return store;
    }

    void assign(Store hsm, String scope, String role, Principal principal) {
        ObjectNode body = Json.object();
        body.putObject("properties").put("roleDefinitionId", "Microsoft.KeyVault/providers/Microsoft.Authorization"
                + "/roleDefinitions/" + role).put("principalId", principal.objectId());
        keys.putRoleAssignment(admin, hsm, scope, UUID.randomUUID().toString(), body);
    }

    static ObjectNode accessPolicy(Principal principal, String... permissions) {
        ObjectNode policy = Json.object();
        policy.put("tenantId", principal.tenantId()).put("objectId", principal.objectId());
        var keys = policy.putObject("permissions").putArray("keys");
        for (String p : permissions) {
            keys.add(p);
        }
        return policy;
    }

    /** Adds an access policy to the vault, as {@code az keyvault set-policy} does. */
    void grant(Store vault, String principalId, String... permissions) {
        ObjectNode resource = keys.getStore(admin, subscription, "rg", vault);
        Principal p = core.identity().find(principalId).orElseThrow();
        ((com.fasterxml.jackson.databind.node.ArrayNode) resource.path("properties").path("accessPolicies"))
                .add(accessPolicy(p, permissions));
        keys.putStore(admin, subscription, "rg", vault, resource);
    }

    /** The versioned key id of a new key: a confidential VM key when {@code cvm}. */
    String key(Store store, String name, String kty, boolean exportableWithPolicy) {
        ObjectNode params = Json.object().put("kty", kty);
        if (exportableWithPolicy) {
            params.putObject("attributes").put("exportable", true);
            params.putObject("release_policy").put("contentType", "application/json; charset=utf-8")
                    .put("data", Json.b64url(ReleasePolicy.defaultCvmPolicy(core.endpoints().attestationIssuer())));
        }
        return keys.createKey(admin, store, name, params).path("key").path("kid").asText();
    }

    ObjectNode desBody(String type, String keyUrl, boolean rotateToLatest) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        body.putObject("identity").put("type", "SystemAssigned");
        ObjectNode p = body.putObject("properties").put("encryptionType", type)
                .put("rotationToLatestKeyVersionEnabled", rotateToLatest);
        p.putObject("activeKey").put("keyUrl", keyUrl);
        return body;
    }

    DiskEncryptionSets.PutResult putDes(String name, String type, String keyUrl, boolean rotateToLatest) {
        return sets.put(admin, subscription, "rg", name, desBody(type, keyUrl, rotateToLatest));
    }

    String desId(String name) {
        return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute/diskEncryptionSets/"
                + name;
    }

    static ArmException rejects(ThrowableAssert.ThrowingCallable call, int status, String code) {
        ArmException e = catchThrowableOfType(ArmException.class, call);
        assertThat(e).as("expected ArmException %s %s", status, code).isNotNull();
        assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
        assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        return e;
    }

    @Override
    public void close() {
        core.close();
    }
}
