package io.coffre.arm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.authorization.BuiltInRoles;
import io.coffre.identity.Principal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResourceManagerTest {
    @TempDir
    Path dir;
    private CoffreCore core;
    private ResourceManager rm;
    private Principal admin;
    private String sub;

    @BeforeEach
    void open() {
        core = TestCores.open(dir);
        rm = core.resourceManager();
        admin = core.identity().admin();
        sub = core.identity().defaultSubscriptionId();
    }

    @AfterEach
    void close() {
        core.close();
    }

    @Test
    void createsReadsUpdatesListsAndDeletesResourceGroups() {
        ResourceManager.ResourceGroupPut created = rm.putResourceGroup(admin, sub, "Rg1", "UAE North", Map.of("env", "t"));
        assertThat(created.created()).isTrue();
        assertThat(created.group().location()).isEqualTo("uaenorth");
        assertThat(created.group().id()).isEqualTo("/subscriptions/" + sub + "/resourceGroups/Rg1");

        ResourceManager.ResourceGroupPut updated = rm.putResourceGroup(admin, sub.toUpperCase(), "RG1", "uaenorth",
                Map.of("env", "prod"));
        assertThat(updated.created()).isFalse();
        assertThat(updated.group().name()).as("keeps the casing it was created with").isEqualTo("Rg1");
        assertThat(rm.getResourceGroup(admin, sub, "rg1").tags()).containsEntry("env", "prod");

        rm.putResourceGroup(admin, sub, "a-first", "koreacentral", Map.of());
        assertThat(rm.listResourceGroups(admin, sub)).extracting(ResourceManager.ResourceGroup::name)
                .containsExactly("a-first", "Rg1");

        rm.deleteResourceGroup(admin, sub, "RG1");
        assertThatThrownBy(() -> rm.getResourceGroup(admin, sub, "rg1")).isInstanceOfSatisfying(ArmException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("ResourceGroupNotFound");
                    assertThat(e.getMessage()).isEqualTo("Resource group 'rg1' could not be found.");
                });
        assertThatThrownBy(() -> rm.deleteResourceGroup(admin, sub, "rg1")).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.code()).isEqualTo("ResourceGroupNotFound"));
    }

    @Test
    void concurrentPutsOfOneGroupOrResourceAllSucceedAndCreateItOnce() throws Exception {
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            for (int round = 0; round < 20; round++) {
                String group = "raced" + round;
                String vault = "/subscriptions/" + sub + "/resourceGroups/" + group
                        + "/providers/Microsoft.KeyVault/vaults/kv";
                CyclicBarrier start = new CyclicBarrier(writers);
                List<Future<Boolean>> puts = new ArrayList<>();
                for (int i = 0; i < writers; i++) {
                    puts.add(pool.submit(() -> {
                        start.await();
                        boolean created = rm.putResourceGroup(admin, sub, group, "uaenorth", Map.of()).created();
                        core.resourceIndex().put(vault, "Microsoft.KeyVault/vaults", "uaenorth", null);
                        return created;
                    }));
                }
                int created = 0;
                for (var put : puts) {
                    created += put.get() ? 1 : 0;
                }
                assertThat(created).isEqualTo(1);
                assertThat(core.resourceIndex().get(vault)).isPresent();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectsBadGroupsWithArmErrors() {
        assertThatThrownBy(() -> rm.putResourceGroup(admin, sub, "bad.", "uaenorth", Map.of()))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidResourceGroup"));
        assertThatThrownBy(() -> rm.putResourceGroup(admin, sub, "rg1", null, Map.of()))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("LocationRequired"));
        assertThatThrownBy(() -> rm.putResourceGroup(admin, "00000000-0000-0000-0000-000000000000", "rg1", "uaenorth",
                Map.of())).isInstanceOfSatisfying(ArmException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("SubscriptionNotFound");
                });
        rm.putResourceGroup(admin, sub, "rg1", "uaenorth", Map.of());
        assertThatThrownBy(() -> rm.putResourceGroup(admin, sub, "rg1", "koreacentral", Map.of()))
                .isInstanceOfSatisfying(ArmException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.code()).isEqualTo("InvalidResourceGroupLocation");
                });
        assertThatThrownBy(() -> rm.putResourceGroup(admin, sub, "rg2", "uaenorth", Map.of("a/b", "x")))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("InvalidTagNameCharacters"));
    }

    @Test
    void refusesToDeleteAGroupThatStillHoldsResources() {
        rm.putResourceGroup(admin, sub, "rg1", "uaenorth", Map.of());
        String vault = "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1";
        core.resourceIndex().put(vault, "Microsoft.KeyVault/vaults", "uaenorth", null);
        assertThatThrownBy(() -> rm.deleteResourceGroup(admin, sub, "rg1")).isInstanceOfSatisfying(ArmException.class,
                e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.code()).isEqualTo("ResourceGroupNotEmpty");
                    assertThat(e.getMessage()).contains(vault).contains("delete them first");
                });
        core.resourceIndex().remove(vault);
        rm.deleteResourceGroup(admin, sub, "rg1");
    }

    @Test
    void indexesResourcesAndListsThemByGroupAndType() {
        rm.putResourceGroup(admin, sub, "rg1", "uaenorth", Map.of());
        rm.putResourceGroup(admin, sub, "rg2", "uaenorth", Map.of());
        String kv1 = "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1";
        String kv2 = "/subscriptions/" + sub + "/resourceGroups/RG2/providers/Microsoft.KeyVault/vaults/kv2";
        String des = "/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.Compute/diskEncryptionSets/des1";
        ResourceIndex index = core.resourceIndex();
        index.put(kv1, "Microsoft.KeyVault/vaults", "uaenorth", "{\"env\":\"t\"}");
        index.put(kv2, "Microsoft.KeyVault/vaults", "uaenorth", null);
        index.put(des, "Microsoft.Compute/diskEncryptionSets", "uaenorth", null);
        index.put(kv1, "Microsoft.KeyVault/vaults", "koreacentral", null);

        assertThat(rm.listResources(admin, sub, null, "microsoft.keyvault/VAULTS")).extracting(IndexedResource::name)
                .containsExactly("kv1", "kv2");
        assertThat(rm.listResources(admin, sub, "rg1", null)).extracting(IndexedResource::name)
                .containsExactly("des1", "kv1");
        IndexedResource kv2Indexed = index.get(kv2.toLowerCase()).orElseThrow();
        assertThat(kv2Indexed.resourceGroup()).as("the group's own casing").isEqualTo("rg2");
        assertThat(index.get(kv1).orElseThrow().location()).isEqualTo("koreacentral");
        assertThat(index.get(kv1).orElseThrow().tagsJson()).isNull();

        assertThatThrownBy(() -> index.put("/subscriptions/" + sub + "/resourceGroups/nope/providers/Microsoft.KeyVault"
                + "/vaults/kv9", "Microsoft.KeyVault/vaults", "uaenorth", null))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.code()).isEqualTo("ResourceGroupNotFound"));
        assertThatThrownBy(() -> index.put(kv1, "Microsoft.Compute/disks", "uaenorth", null))
                .isInstanceOf(IllegalArgumentException.class);
        index.remove(des);
        assertThat(index.get(des)).isEmpty();
    }

    @Test
    void showsEachPrincipalOnlyWhatItsRolesReach() {
        Principal sp = core.identity().createServicePrincipal("reader-of-rg1").principal();
        rm.putResourceGroup(admin, sub, "rg1", "uaenorth", Map.of());
        rm.putResourceGroup(admin, sub, "rg2", "uaenorth", Map.of());
        core.resourceIndex().put("/subscriptions/" + sub + "/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1",
                "Microsoft.KeyVault/vaults", "uaenorth", null);
        core.resourceIndex().put("/subscriptions/" + sub + "/resourceGroups/rg2/providers/Microsoft.KeyVault/vaults/kv2",
                "Microsoft.KeyVault/vaults", "uaenorth", null);

        assertThat(rm.listSubscriptions(sp)).isEmpty();
        assertThatThrownBy(() -> rm.getSubscription(sp, sub)).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.code()).isEqualTo("SubscriptionNotFound"));

        core.accessControl().grantBySystem("/subscriptions/" + sub + "/resourceGroups/rg1", BuiltInRoles.READER,
                sp.objectId());
        assertThat(rm.listSubscriptions(sp)).extracting(ResourceManager.Subscription::subscriptionId)
                .containsExactly(sub);
        assertThat(rm.listResourceGroups(sp, sub)).extracting(ResourceManager.ResourceGroup::name)
                .containsExactly("rg1");
        assertThat(rm.listResources(sp, sub, null, null)).extracting(IndexedResource::name).containsExactly("kv1");
        assertThatThrownBy(() -> rm.getResourceGroup(sp, sub, "rg2")).isInstanceOfSatisfying(ArmException.class,
                e -> assertThat(e.code()).isEqualTo("AuthorizationFailed"));
        assertThatThrownBy(() -> rm.putResourceGroup(sp, sub, "rg1", "uaenorth", Map.of()))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThatThrownBy(() -> rm.registerProvider(sp, sub, "Microsoft.Compute"))
                .isInstanceOfSatisfying(ArmException.class, e -> assertThat(e.status()).isEqualTo(403));
    }

    @Test
    void servesItsProvidersAsRegistered() {
        assertThat(rm.registerProvider(admin, sub, "microsoft.compute").namespace()).isEqualTo("Microsoft.Compute");
        assertThat(rm.listProviders(admin, sub)).extracting(ResourceManager.ResourceProvider::namespace)
                .contains("Microsoft.KeyVault", "Microsoft.RecoveryServices", "Microsoft.Features",
                        "Microsoft.Storage", "Microsoft.Authorization");
        assertThatThrownBy(() -> rm.getProvider(admin, sub, "Microsoft.Sql")).isInstanceOfSatisfying(
                ArmException.class, e -> {
                    assertThat(e.status()).isEqualTo(404);
                    assertThat(e.code()).isEqualTo("InvalidResourceNamespace");
                });
    }
}
