package io.coffre.arm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResourceIdTest {
    private static final String S = "22222222-aaaa-bbbb-cccc-000000000001";

    @Test
    void parsesAKeyUnderAVault() {
        ResourceId key = ResourceId.parse("/SUBSCRIPTIONS/" + S + "/resourcegroups/Rg1/PROVIDERS/Microsoft.KeyVault"
                + "/vaults/kv1/keys/k1");
        assertThat(key.subscriptionId()).isEqualTo(S);
        assertThat(key.resourceGroup()).isEqualTo("Rg1");
        assertThat(key.provider()).isEqualTo("Microsoft.KeyVault");
        assertThat(key.type()).isEqualTo("Microsoft.KeyVault/vaults/keys");
        assertThat(key.name()).isEqualTo("k1");
        assertThat(key).hasToString("/subscriptions/" + S + "/resourceGroups/Rg1/providers/Microsoft.KeyVault"
                + "/vaults/kv1/keys/k1");
        ResourceId vault = key.parent().orElseThrow();
        assertThat(vault.type()).isEqualTo("Microsoft.KeyVault/vaults");
        assertThat(vault.name()).isEqualTo("kv1");
        assertThat(key.topLevelResource()).contains(vault);
        ResourceId group = vault.parent().orElseThrow();
        assertThat(group.isResourceGroup()).isTrue();
        assertThat(group.type()).isEqualTo(ResourceId.RESOURCE_GROUP_TYPE);
        assertThat(group.name()).isEqualTo("Rg1");
        ResourceId subscription = group.parent().orElseThrow();
        assertThat(subscription.isSubscription()).isTrue();
        assertThat(subscription.name()).isEqualTo(S);
        assertThat(subscription.parent()).isEmpty();
    }

    @Test
    void comparesCaseInsensitivelyAndKnowsAncestry() {
        ResourceId vault = ResourceId.parse("/subscriptions/" + S + "/resourceGroups/rg1/providers/Microsoft.KeyVault"
                + "/vaults/KV1");
        ResourceId key = ResourceId.parse("/subscriptions/" + S.toUpperCase() + "/resourcegroups/RG1/providers"
                + "/microsoft.keyvault/vaults/kv1/keys/k1/");
        assertThat(vault).isEqualTo(key.parent().orElseThrow()).hasSameHashCodeAs(key.parent().orElseThrow());
        assertThat(vault.isAncestorOf(key)).isTrue();
        assertThat(key.isAncestorOf(vault)).isFalse();
        assertThat(vault.isAncestorOf(vault)).isFalse();
        assertThat(vault.covers(vault)).isTrue();
        assertThat(ResourceId.subscription(S).isAncestorOf(key)).isTrue();
        // A name prefix is not an ancestor: rg1 does not contain rg10.
        assertThat(ResourceId.resourceGroup(S, "rg1").isAncestorOf(ResourceId.resourceGroup(S, "rg10"))).isFalse();
        assertThat(ResourceId.resourceGroup(S, "rg1").covers(ResourceId.parse("/subscriptions/" + S
                + "/resourceGroups/rg10/providers/Microsoft.KeyVault/vaults/kv1"))).isFalse();
    }

    @Test
    void buildsIdsFromParts() {
        ResourceId des = ResourceId.resourceGroup(S, "rg1").resource("Microsoft.Compute", "diskEncryptionSets", "des1");
        assertThat(des).hasToString("/subscriptions/" + S + "/resourceGroups/rg1/providers/Microsoft.Compute"
                + "/diskEncryptionSets/des1");
        ResourceId item = ResourceId.resourceGroup(S, "rg1").resource("Microsoft.RecoveryServices", "vaults", "rsv1")
                .child("backupFabrics", "Azure").child("protectionContainers", "iaasvmcontainer;iaasvmcontainerv2;rg1;vm");
        assertThat(item.type()).isEqualTo("Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers");
        assertThat(item.name()).isEqualTo("iaasvmcontainer;iaasvmcontainerv2;rg1;vm");
        ResourceId feature = ResourceId.subscription(S).resource("Microsoft.Features", "featureProviders", "x");
        assertThat(feature.resourceGroup()).isNull();
        assertThat(feature.parent()).contains(ResourceId.subscription(S));
        assertThatThrownBy(() -> ResourceId.resourceGroup(S, "a/b")).isInstanceOf(ArmException.class)
                .hasMessageContaining("without '/'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "subscriptions/s", "/subscriptions", "/subscriptions/", "/subscription/s",
            "/subscriptions/s/resourceGroups", "/subscriptions/s/resourceGroups/rg/providers",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults",
            "/subscriptions/s/resourceGroups/rg/providers/NotANamespace/vaults/kv1",
            "/subscriptions/s/resourceGroups/rg/vaults/kv1", "/subscriptions//resourceGroups/rg",
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1/providers"
                    + "/Microsoft.Authorization/roleAssignments/x"})
    void rejectsMalformedIds(String id) {
        assertThatThrownBy(() -> ResourceId.parse(id)).isInstanceOfSatisfying(ArmException.class, e -> {
            assertThat(e.status()).isEqualTo(400);
            assertThat(e.code()).isEqualTo("InvalidResourceId");
            assertThat(e.getMessage()).contains("Expected /subscriptions/{subscriptionId}");
        });
    }

    @Test
    void validatesResourceGroupNames() {
        assertThat(ResourceId.requireResourceGroupName("rg-1_(prod).x")).isEqualTo("rg-1_(prod).x");
        assertThat(ResourceId.requireResourceGroupName("grüppe")).isEqualTo("grüppe");
        assertThat(ResourceId.requireResourceGroupName("a".repeat(90))).hasSize(90);
        for (String bad : new String[] {"", "a".repeat(91), "rg.", "rg 1", "rg/1", "rg#"}) {
            assertThatThrownBy(() -> ResourceId.requireResourceGroupName(bad)).as(bad)
                    .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidResourceGroup"));
        }
        assertThatThrownBy(() -> ResourceId.requireResourceGroupName("rg 1#"))
                .hasMessageContaining("has these invalid characters: ' #'");
    }
}
