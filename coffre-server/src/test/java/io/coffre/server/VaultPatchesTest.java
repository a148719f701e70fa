package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import org.junit.jupiter.api.Test;

class VaultPatchesTest {
    private static ObjectNode vault() {
        return (ObjectNode) Json.parse("""
                {"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1","tags":{"x":"1"},
                 "properties":{"sku":{"family":"A","name":"premium"},"enableSoftDelete":true,"accessPolicies":[
                   {"tenantId":"T","objectId":"o1","permissions":{"keys":["get","list"],"secrets":["get"]}}]}}""");
    }

    private static JsonNode change(String objectId, String permissions) {
        return Json.parse("{\"properties\":{\"accessPolicies\":[{\"tenantId\":\"t\",\"objectId\":\"" + objectId
                + "\",\"permissions\":" + permissions + "}]}}");
    }

    @Test
    void addUnionsIntoTheSamePrincipalsEntryIgnoringCase() {
        ObjectNode edited = VaultPatches.editAccessPolicies(vault(), "add", change("O1", "{\"keys\":[\"Get\",\"backup\"]}"));
        JsonNode policies = edited.at("/properties/accessPolicies");
        assertThat(policies).hasSize(1);
        assertThat(policies.at("/0/permissions/keys").toString()).isEqualTo("[\"get\",\"list\",\"backup\"]");
        assertThat(policies.at("/0/permissions/secrets").toString()).isEqualTo("[\"get\"]");
        assertThat(vault().at("/properties/accessPolicies/0/permissions/keys")).hasSize(2);
    }

    @Test
    void addAppendsANewPrincipalAndReplaceSetsPermissions() {
        ObjectNode added = VaultPatches.editAccessPolicies(vault(), "add", change("o2", "{\"keys\":[\"get\"]}"));
        assertThat(added.at("/properties/accessPolicies")).hasSize(2);
        ObjectNode replaced = VaultPatches.editAccessPolicies(vault(), "replace", change("o1", "{\"keys\":[\"wrapKey\"]}"));
        assertThat(replaced.at("/properties/accessPolicies/0/permissions").toString())
                .isEqualTo("{\"keys\":[\"wrapKey\"]}");
    }

    @Test
    void removeTakesPermissionsAwayAndDropsAnEmptiedEntry() {
        ObjectNode partly = VaultPatches.editAccessPolicies(vault(), "remove", change("o1", "{\"keys\":[\"list\"]}"));
        assertThat(partly.at("/properties/accessPolicies/0/permissions/keys").toString()).isEqualTo("[\"get\"]");
        ObjectNode gone = VaultPatches.editAccessPolicies(vault(), "remove",
                change("o1", "{\"keys\":[\"get\",\"list\"],\"secrets\":[\"get\"]}"));
        assertThat(gone.at("/properties/accessPolicies")).isEmpty();
        ObjectNode unknown = VaultPatches.editAccessPolicies(vault(), "remove", change("o9", "{\"keys\":[\"get\"]}"));
        assertThat(unknown.at("/properties/accessPolicies")).hasSize(1);
    }

    @Test
    void editsNeedPoliciesWithPrincipals() {
        assertThatThrownBy(() -> VaultPatches.editAccessPolicies(vault(), "add", Json.parse("{}")))
                .isInstanceOf(ArmException.class).hasMessageContaining("accessPolicies");
        assertThatThrownBy(() -> VaultPatches.editAccessPolicies(vault(), "add",
                Json.parse("{\"properties\":{\"accessPolicies\":[{\"permissions\":{}}]}}")))
                .isInstanceOf(ArmException.class).hasMessageContaining("objectId");
        assertThatThrownBy(() -> VaultPatches.accessPolicyOperation("merge"))
                .isInstanceOf(ArmException.class).extracting(e -> ((ArmException) e).status()).isEqualTo(400);
        assertThat(VaultPatches.accessPolicyOperation("Add")).isEqualTo("add");
    }

    @Test
    void mergeReplacesTagsAndGivenPropertiesOnly() {
        ObjectNode merged = VaultPatches.merge(vault(),
                Json.parse("{\"tags\":{\"y\":\"2\"},\"properties\":{\"enablePurgeProtection\":true}}"));
        assertThat(merged.path("tags").toString()).isEqualTo("{\"y\":\"2\"}");
        assertThat(merged.at("/properties/enablePurgeProtection").asBoolean()).isTrue();
        assertThat(merged.at("/properties/sku/name").asText()).isEqualTo("premium");
        assertThat(merged.at("/properties/accessPolicies")).hasSize(1);
        assertThatThrownBy(() -> VaultPatches.merge(vault(), Json.parse("{\"properties\":[]}")))
                .isInstanceOf(ArmException.class);
    }

    @Test
    void nameAvailabilityFollowsTheNamingRules() {
        assertThat(VaultPatches.nameAvailability(Store.Kind.VAULT, "kv-1", false).path("nameAvailable").asBoolean())
                .isTrue();
        for (String bad : new String[] {"ab", "1kv", "kv-", "k--v", "a234567890123456789012345", "kv_1"}) {
            assertThat(VaultPatches.nameAvailability(Store.Kind.VAULT, bad, false).path("reason").asText())
                    .as(bad).isEqualTo("AccountNameInvalid");
        }
        JsonNode taken = VaultPatches.nameAvailability(Store.Kind.MANAGED_HSM, "hsm1", true);
        assertThat(taken.path("reason").asText()).isEqualTo("AlreadyExists");
        assertThat(taken.path("message").asText()).contains("managed HSM").contains("hsm1");
    }
}
