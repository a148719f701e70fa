package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.keyvault.KeyService.Store;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreManagementTest {
    @TempDir
    Path dir;
    private KeyVaultFixture f;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private ObjectNode vaultBody(String location) {
        return (ObjectNode) json("{\"location\":\"" + location + "\",\"properties\":{\"sku\":{\"family\":\"A\","
                + "\"name\":\"premium\"},\"accessPolicies\":[]}}");
    }

    @Test
    void vaultIsAnArmResourceAsAzureReturnsIt() {
        ObjectNode body = vaultBody("UAE North");
        body.putObject("tags").put("env", "test");
        ((ObjectNode) body.get("properties")).put("enabledForDiskEncryption", true);
        ObjectNode vault = f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-one"), body);

        assertThat(vault.path("id").asText()).isEqualTo("/subscriptions/" + f.subscription
                + "/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv-one");
        assertThat(vault.path("type").asText()).isEqualTo("Microsoft.KeyVault/vaults");
        assertThat(vault.path("location").asText()).isEqualTo("uaenorth");
        assertThat(vault.path("tags").path("env").asText()).isEqualTo("test");
        ObjectNode p = (ObjectNode) vault.get("properties");
        assertThat(p.path("tenantId").asText()).isEqualTo(f.core.identity().tenantId());
        assertThat(p.path("sku").path("name").asText()).isEqualTo("premium");
        assertThat(p.path("vaultUri").asText()).isEqualTo(f.core.endpoints().vaultUri("kv-one"));
        assertThat(p.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(p.path("softDeleteRetentionInDays").asInt()).isEqualTo(90);
        assertThat(p.path("enableSoftDelete").asBoolean()).isTrue();
        assertThat(p.path("enabledForDiskEncryption").asBoolean()).isTrue();
        assertThat(p.has("enablePurgeProtection")).isFalse();
        assertThat(f.keys.getStore(f.admin, f.subscription, "RG", Store.vault("KV-ONE"))).isEqualTo(vault);
        assertThat(f.keys.listStores(f.admin, f.subscription, null, Store.Kind.VAULT)).containsExactly(vault);
        assertThat(f.core.resourceIndex().get(vault.path("id").asText())).isPresent();
    }

    @Test
    void managedHsmGrantsItsInitialAdministrators() {
        Store hsm = f.hsm("hsm-one");
        ObjectNode resource = f.keys.getStore(f.admin, f.subscription, "rg", hsm);
        assertThat(resource.path("type").asText()).isEqualTo("Microsoft.KeyVault/managedHSMs");
        assertThat(resource.path("sku").path("name").asText()).isEqualTo("Standard_B1");
        assertThat(resource.path("properties").path("hsmUri").asText())
                .isEqualTo(f.core.endpoints().managedHsmUri("hsm-one"));
        assertThat(resource.path("properties").path("initialAdminObjectIds").get(0).asText())
                .isEqualTo(f.admin.objectId());
        KeyService.Page atRoot = f.keys.listRoleAssignments(f.admin, hsm, "/", "atScope()");
        assertThat(atRoot.value()).anySatisfy(a -> assertThat(a.path("properties").path("roleDefinitionId").asText())
                .endsWith(BuiltInRoles.ADMINISTRATOR));
    }

    @Test
    void invalidStoreNamesAreRejected() {
        for (String name : java.util.List.of("ab", "1vault", "vault--name", "vault-", "a-very-long-vault-name-over24",
                "kv_under")) {
            ArmException e = f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg",
                    Store.vault(name), vaultBody("uaenorth")), 400, "VaultNameNotValid");
            assertThat(e.getMessage()).contains(name).contains("3-24");
        }
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.hsm("h"),
                vaultBody("uaenorth")), 400, "ManagedHsmNameNotValid");
    }

    @Test
    void unknownRegionListsTheValidOnes() {
        ArmException e = f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg",
                Store.vault("kv-where"), vaultBody("atlantis")), 400, "LocationNotAvailableForResourceType");
        assertThat(e.getMessage()).contains("atlantis").contains("uaenorth").contains("koreacentral");
    }

    @Test
    void badPropertiesAreRejectedWithoutWriting() {
        ObjectNode retention = vaultBody("uaenorth");
        ((ObjectNode) retention.get("properties")).put("softDeleteRetentionInDays", 5);
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"),
                retention), 400, "BadRequest").getMessage()).contains("softDeleteRetentionInDays").contains("7");

        ObjectNode sku = vaultBody("uaenorth");
        ((ObjectNode) sku.get("properties")).putObject("sku").put("name", "gold");
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"),
                sku), 400, "BadRequest").getMessage()).contains("gold").contains("premium");

        ObjectNode policy = vaultBody("uaenorth");
        ((ObjectNode) policy.get("properties")).set("accessPolicies", json("[{\"tenantId\":\""
                + f.core.identity().tenantId() + "\",\"objectId\":\"x\",\"permissions\":{\"keys\":[\"get\",\"peek\"]}}]"));
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"),
                policy), 400, "BadRequest").getMessage()).contains("accessPolicies[0].permissions.keys[1]")
                .contains("peek");

        ObjectNode tenant = vaultBody("uaenorth");
        ((ObjectNode) tenant.get("properties")).put("tenantId", "00000000-0000-0000-0000-000000000000");
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"), tenant),
                400, "BadRequest");

        ObjectNode softDelete = vaultBody("uaenorth");
        ((ObjectNode) softDelete.get("properties")).put("enableSoftDelete", false);
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"),
                softDelete), 400, "BadRequest");

        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-x"),
                json("{\"properties\":{}}")), 400, "LocationRequired");
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "nogroup", Store.vault("kv-x"),
                vaultBody("uaenorth")), 404, "ResourceGroupNotFound");
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.hsm("hsm-x"),
                json("{\"location\":\"uaenorth\",\"properties\":{}}")), 400, "BadRequest");
    }

    @Test
    void callerWithoutRightsGets403NamingTheAction() {
        Principal stranger = f.servicePrincipal("stranger");
        ArmException e = f.rejectsWithoutWriting(() -> f.keys.putStore(stranger, f.subscription, "rg",
                Store.vault("kv-x"), vaultBody("uaenorth")), 403, "AuthorizationFailed");
        assertThat(e.getMessage()).contains("Microsoft.KeyVault/vaults/write").contains(stranger.objectId());
    }

    @Test
    void namesAreGlobalPerKindAndHeldBySoftDeletedStores() {
        f.resourceGroup("rg2");
        f.vault("kv-taken", "uaenorth", "standard");
        ArmException taken = f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg2",
                Store.vault("KV-TAKEN"), vaultBody("uaenorth")), 409, "VaultAlreadyExists");
        assertThat(taken.getMessage()).containsIgnoringCase("kv-taken");
        // The other kind has its own namespace.
        f.hsm("kv-taken");

        f.keys.deleteStore(f.admin, f.subscription, "rg", Store.vault("kv-taken"));
        ArmException held = f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg",
                Store.vault("kv-taken"), vaultBody("uaenorth")), 409, "VaultAlreadyExists");
        assertThat(held.getMessage()).contains("purge").contains("recover");
    }

    @Test
    void softDeletedStoreKeepsItsKeysAndRecoversWithThem() {
        Store vault = f.vault("kv-rec", "uaenorth", "premium");
        ObjectNode key = f.createKey(vault, "k1", "RSA");
        f.keys.deleteStore(f.admin, f.subscription, "rg", vault);

        rejects(() -> f.keys.getStore(f.admin, f.subscription, "rg", vault), 404, "ResourceNotFound");
        rejects(() -> f.keys.getKey(f.admin, vault, "k1", null), 404, "VaultNotFound");
        ObjectNode deleted = f.keys.getDeletedStore(f.admin, f.subscription, "uaenorth", vault);
        assertThat(deleted.path("type").asText()).isEqualTo("Microsoft.KeyVault/deletedVaults");
        assertThat(deleted.path("properties").path("vaultId").asText()).endsWith("/vaults/kv-rec");
        assertThat(f.keys.listDeletedStores(f.admin, f.subscription, Store.Kind.VAULT)).hasSize(1);
        assertThat(f.core.resourceIndex().get(deleted.path("properties").path("vaultId").asText())).isEmpty();

        ObjectNode recover = vaultBody("uaenorth");
        ((ObjectNode) recover.get("properties")).put("createMode", "recover");
        f.keys.putStore(f.admin, f.subscription, "rg", vault, recover);
        assertThat(f.keys.getKey(f.admin, vault, "k1", null).path("key").path("kid"))
                .isEqualTo(key.path("key").path("kid"));
        rejects(() -> f.keys.getDeletedStore(f.admin, f.subscription, "uaenorth", vault), 404, "ResourceNotFound");
    }

    @Test
    void recoverWithoutDeletedStoreIsNotFound() {
        ObjectNode recover = vaultBody("uaenorth");
        ((ObjectNode) recover.get("properties")).put("createMode", "recover");
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", Store.vault("kv-none"), recover),
                404, "ResourceNotFound");
    }

    @Test
    void purgeRemovesEverythingAndFreesTheName() {
        Store vault = f.vault("kv-purge", "uaenorth", "premium");
        f.createKey(vault, "k1", "RSA");
        f.keys.deleteStore(f.admin, f.subscription, "rg", vault);
        f.keys.purgeDeletedStore(f.admin, f.subscription, "uaenorth", vault);

        assertThat(f.snapshot().get("kv_keys")).isEmpty();
        assertThat(f.snapshot().get("kv_key_versions")).isEmpty();
        assertThat(f.snapshot().get("kv_stores")).isEmpty();
        f.vault("kv-purge", "uaenorth", "standard");
        rejects(() -> f.keys.getKey(f.admin, vault, "k1", null), 404, "KeyNotFound");
    }

    @Test
    void purgeProtectionCannotBeTurnedOffAndBlocksPurgeUntilTheScheduledDate() {
        Store vault = f.vault("kv-pp", "uaenorth", "premium", (ObjectNode) json(
                "{\"enablePurgeProtection\":true,\"softDeleteRetentionInDays\":7}"));
        ObjectNode off = f.keys.getStore(f.admin, f.subscription, "rg", vault);
        ((ObjectNode) off.get("properties")).put("enablePurgeProtection", false);
        assertThat(f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", vault, off), 400,
                "BadRequest").getMessage()).contains("enablePurgeProtection").contains("irreversible");

        f.keys.deleteStore(f.admin, f.subscription, "rg", vault);
        ArmException refused = f.rejectsWithoutWriting(() -> f.keys.purgeDeletedStore(f.admin, f.subscription,
                "uaenorth", vault), 409, "ConflictError");
        assertThat(refused.getMessage()).contains("purge protection").contains("scheduled purge date");

        // Seven days later the scheduler purges it by itself.
        f.clock.advance(Duration.ofDays(7).plusMinutes(1));
        rejects(() -> f.keys.getDeletedStore(f.admin, f.subscription, "uaenorth", vault), 404, "ResourceNotFound");
        assertThat(f.snapshot().get("kv_stores")).isEmpty();
    }

    @Test
    void retentionCannotChangeAndLocationCannotMove() {
        Store vault = f.vault("kv-fixed", "uaenorth", "standard");
        ObjectNode resource = f.keys.getStore(f.admin, f.subscription, "rg", vault);
        ((ObjectNode) resource.get("properties")).put("softDeleteRetentionInDays", 30);
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", vault, resource), 400,
                "BadRequest");
        ObjectNode moved = f.keys.getStore(f.admin, f.subscription, "rg", vault);
        moved.put("location", "koreacentral");
        f.rejectsWithoutWriting(() -> f.keys.putStore(f.admin, f.subscription, "rg", vault, moved), 400,
                "InvalidResourceLocation");
    }

    @Test
    void updateKeepsWhatTheBodyOmitsAndReplacesWhatItNames() {
        Store vault = f.vault("kv-upd", "uaenorth", "standard");
        ObjectNode resource = f.keys.getStore(f.admin, f.subscription, "rg", vault);
        resource.putObject("tags").put("owner", "me");
        ((ObjectNode) resource.get("properties")).put("enableRbacAuthorization", true);
        ObjectNode updated = f.keys.putStore(f.admin, f.subscription, "rg", vault, resource);
        assertThat(updated.path("tags").path("owner").asText()).isEqualTo("me");
        assertThat(updated.path("properties").path("enableRbacAuthorization").asBoolean()).isTrue();
        assertThat(updated.path("properties").path("accessPolicies")).hasSize(1);
        assertThat(f.keys.putStore(f.admin, f.subscription, "rg", vault, json("{\"location\":\"uaenorth\"}"))
                .path("properties").path("enableRbacAuthorization").asBoolean()).isTrue();
    }

    @Test
    void softDeletedStoresArePurgedAutomaticallyAfterRetention() {
        Store vault = f.vault("kv-auto", "uaenorth", "standard", (ObjectNode) json(
                "{\"softDeleteRetentionInDays\":10}"));
        f.keys.deleteStore(f.admin, f.subscription, "rg", vault);
        f.clock.advance(Duration.ofDays(9));
        assertThat(f.keys.listDeletedStores(f.admin, f.subscription, Store.Kind.VAULT)).hasSize(1);
        f.clock.advance(Duration.ofDays(1).plusSeconds(1));
        assertThat(f.keys.listDeletedStores(f.admin, f.subscription, Store.Kind.VAULT)).isEmpty();
    }

    @Test
    void listingShowsOnlyStoresTheCallerMayRead() {
        f.vault("kv-a", "uaenorth", "standard");
        Principal reader = f.servicePrincipal("reader");
        assertThat(f.keys.listStores(reader, f.subscription, null, Store.Kind.VAULT)).isEmpty();
        f.core.accessControl().grantBySystem("/subscriptions/" + f.subscription + "/resourceGroups/rg",
                "acdd72a7-3385-48ef-bd42-f606fba81ae7", reader.objectId());
        assertThat(f.keys.listStores(reader, f.subscription, "rg", Store.Kind.VAULT)).hasSize(1);
        assertThat(f.keys.listStores(reader, f.subscription, null, Store.Kind.MANAGED_HSM)).isEmpty();
    }
}
