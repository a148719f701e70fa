package io.coffre.keyvault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.time.ManualClock;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.assertj.core.api.ThrowableAssert;

/**
 * A real core (H2 file database, file blobs, generated master key, manual clock) in a temporary directory, with the
 * helpers the key-service tests share: resource groups, vaults and HSMs, principals, error and no-write assertions.
 */
final class KeyVaultFixture implements AutoCloseable {
    static final String KEY_VAULT_CRYPTO_OFFICER = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
    static final String KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424";
    static final String KEY_VAULT_READER = "21090545-7ca7-4776-b22c-e363652d74d2";
    static final String OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
    static final String HSM_CRYPTO_USER = "21dbd100-6940-42c2-9190-5d6cb909625b";
    static final String HSM_CRYPTO_OFFICER = "515eb02d-2335-4d2d-92f2-b1cbdf9c3778";

    final CoffreCore core;
    final KeyService keys;
    final ManualClock clock;
    final Principal admin;
    final String subscription;

    KeyVaultFixture(Path dir) {
        core = TestCores.open(dir);
        keys = core.keyService();
        clock = (ManualClock) core.clock();
        admin = core.identity().admin();
        subscription = core.identity().defaultSubscriptionId();
        resourceGroup("rg");
    }

    void resourceGroup(String name) {
        core.resourceManager().putResourceGroup(admin, subscription, name, "uaenorth", Map.of());
    }

    Principal servicePrincipal(String name) {
        return core.identity().createServicePrincipal(name).principal();
    }

    Principal backupManagementService() {
        return core.identity().find(io.coffre.identity.Directory.BACKUP_MANAGEMENT_SERVICE_APP_ID).orElseThrow();
    }

    /** A vault with an access policy granting every key permission to the administrator. */
    Store vault(String name, String location, String sku) {
        return vault(name, location, sku, Json.object());
    }

    Store vault(String name, String location, String sku, ObjectNode extraProperties) {
        ObjectNode body = Json.object();
        body.put("location", location);
        ObjectNode properties = body.putObject("properties");
        properties.putObject("sku").put("family", "A").put("name", sku);
        properties.put("tenantId", core.identity().tenantId());
        properties.set("accessPolicies", Json.MAPPER.createArrayNode().add(accessPolicy(admin, "all")));
        properties.setAll(extraProperties);
        keys.putStore(admin, subscription, "rg", Store.vault(name), body);
        return Store.vault(name);
    }

    /** A managed HSM whose administrator is also Crypto User and Crypto Officer at {@code /}. */
    Store hsm(String name, ObjectNode extraProperties) {
        ObjectNode body = Json.object();
        body.put("location", "uaenorth");
        body.putObject("sku").put("family", "B").put("name", "Standard_B1");
        ObjectNode properties = body.putObject("properties");
        properties.putArray("initialAdminObjectIds").add(admin.objectId());
        properties.setAll(extraProperties);
        Store store = Store.hsm(name);
        keys.putStore(admin, subscription, "rg", store, body);
        assign(store, "/", HSM_CRYPTO_USER, admin);
        assign(store, "/", HSM_CRYPTO_OFFICER, admin);
        return store;
    }

    Store hsm(String name) {
        return hsm(name, Json.object());
    }

    ObjectNode assign(Store hsm, String scope, String roleDefinition, Principal principal) {
        ObjectNode body = Json.object();
        ObjectNode properties = body.putObject("properties");
        properties.put("roleDefinitionId", LocalRbac.DEFINITION_ID_PREFIX + roleDefinition);
        properties.put("principalId", principal.objectId());
        return keys.putRoleAssignment(admin, hsm, scope, java.util.UUID.randomUUID().toString(), body);
    }

    static ObjectNode accessPolicy(Principal principal, String... keyPermissions) {
        ObjectNode policy = Json.object();
        policy.put("tenantId", principal.tenantId());
        policy.put("objectId", principal.objectId());
        policy.putObject("permissions").set("keys", Json.MAPPER.valueToTree(List.of(keyPermissions)));
        return policy;
    }

    /** Replaces the vault's access policies: the administrator keeps "all", plus the given ones. */
    void setAccessPolicies(Store vault, ObjectNode... policies) {
        ObjectNode resource = keys.getStore(admin, subscription, "rg", vault);
        var list = Json.MAPPER.createArrayNode().add(accessPolicy(admin, "all"));
        for (ObjectNode p : policies) {
            list.add(p);
        }
        ((ObjectNode) resource.get("properties")).set("accessPolicies", list);
        keys.putStore(admin, subscription, "rg", vault, resource);
    }

    ObjectNode createKey(Store store, String name, String kty) {
        return keys.createKey(admin, store, name, json("{\"kty\":\"" + kty + "\"}"));
    }

    static JsonNode json(String text) {
        return Json.parse(text);
    }

    static String version(ObjectNode bundle) {
        String kid = bundle.path("key").path("kid").asText();
        return kid.substring(kid.lastIndexOf('/') + 1);
    }

    /** The ArmException the call throws, after checking its status and code. */
    static ArmException rejects(ThrowableAssert.ThrowingCallable call, int status, String code) {
        ArmException e = catchThrowableOfType(ArmException.class, call);
        assertThat(e).as("expected ArmException %s %s", status, code).isNotNull();
        assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
        assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        return e;
    }

    /** Every row of the key service's tables and of the ARM resource index, to prove a rejected call wrote nothing. */
    Map<String, List<String>> snapshot() {
        Map<String, List<String>> tables = new TreeMap<>();
        for (String table : core.metadata().tables()) {
            if (table.startsWith("kv_") || table.equals("arm_resources")) {
                tables.put(table, core.metadata().withHandle(h -> h.createQuery("SELECT * FROM " + table)
                        .mapToMap().list().stream().map(KeyVaultFixture::describeRow).sorted().toList()));
            }
        }
        return tables;
    }

    private static String describeRow(Map<String, Object> row) {
        return new TreeMap<>(row).entrySet().stream().map(e -> e.getKey() + "=" + (e.getValue() instanceof byte[] b
                ? java.util.HexFormat.of().formatHex(b) : String.valueOf(e.getValue())))
                .collect(Collectors.joining(","));
    }

    /** Runs a call that must be rejected with status and code and must leave storage exactly as it was. */
    ArmException rejectsWithoutWriting(ThrowableAssert.ThrowingCallable call, int status, String code) {
        Map<String, List<String>> before = snapshot();
        ArmException e = rejects(call, status, code);
        assertThat(snapshot()).as("storage after a rejected call").isEqualTo(before);
        return e;
    }

    @Override
    public void close() {
        core.close();
    }
}
