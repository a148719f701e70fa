package io.coffre.compute;

import static io.coffre.compute.DesFixture.rejects;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.store.StorageScanner;
import java.nio.file.Path;
import java.util.UUID;
import javax.crypto.SecretKey;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskEncryptionSetsTest {
    private static final String CVM = "ConfidentialVmEncryptedWithCustomerKey";
    private static final String CMK = "EncryptionAtRestWithCustomerKey";

    @TempDir
    Path dir;
    DesFixture f;

    @BeforeEach
    void open() {
        f = new DesFixture(dir);
    }

    @AfterEach
    void close() {
        f.close();
    }

    @Test
    void confidentialDesOnAPremiumPurgeProtectedVault() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        String kid = f.key(kv, "cvm", "RSA-HSM", true);
        DiskEncryptionSets.PutResult created = f.putDes("des1", CVM, kid, false);
        ObjectNode des = created.resource();
        assertThat(des.path("type").asText()).isEqualTo("Microsoft.Compute/diskEncryptionSets");
        assertThat(des.path("identity").path("type").asText()).isEqualTo("SystemAssigned");
        assertThat(des.path("identity").path("principalId").asText()).isNotBlank();
        assertThat(des.path("identity").path("tenantId").asText()).isEqualTo(f.core.identity().tenantId());
        assertThat(des.path("properties").path("activeKey").path("keyUrl").asText()).isEqualTo(kid);
        assertThat(des.path("properties").path("encryptionType").asText()).isEqualTo(CVM);
        assertThat(des.path("properties").path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(created.created()).isTrue();
        assertThat(f.core.resourceIndex().get(f.desId("des1"))).isPresent();
        assertThat(f.sets.get(f.admin, f.subscription, "rg", "des1")).isEqualTo(des);
        assertThat(f.sets.list(f.admin, f.subscription, null)).containsExactly(des);
        assertThat(f.putDes("des1", CVM, kid, true).created()).isFalse();
    }

    @Test
    void confidentialDesOnAManagedHsm() {
        Store hsm = f.hsm("hsm1");
        String kid = f.key(hsm, "cvm", "RSA-HSM", true);
        ObjectNode des = f.putDes("des1", CVM, kid, false).resource();
        assertThat(des.path("properties").path("activeKey").path("keyUrl").asText()).contains(".managedhsm.");
    }

    @Test
    void eachConfidentialRequirementFailsNamingTheMissingPiece() {
        Store premium = f.vault("kv1", "premium", true, "uaenorth");
        Store standard = f.vault("kv2", "standard", true, "uaenorth");
        Store unprotected = f.vault("kv3", "premium", false, "uaenorth");
        Store elsewhere = f.vault("kv4", "premium", true, "koreacentral");
        rejects(() -> f.putDes("d", CVM, f.key(premium, "soft", "RSA", false), false), 400,
                "ConfidentialVmKeyNotHsm");
        rejects(() -> f.putDes("d", CVM, f.key(premium, "plain", "RSA-HSM", false), false), 400,
                "ConfidentialVmKeyNotExportable");
        rejects(() -> f.putDes("d", CVM, f.key(standard, "std", "RSA", false), false), 400,
                "ConfidentialVmKeyNotHsm");
        rejects(() -> f.putDes("d", CVM, f.key(unprotected, "cvm", "RSA-HSM", true), false), 400,
                "KeyStoreWithoutPurgeProtection");
        rejects(() -> f.putDes("d", CVM, f.key(elsewhere, "cvm", "RSA-HSM", true), false), 400,
                "KeyInOtherRegion");
        String kid = f.key(premium, "cvm", "RSA-HSM", true);
        rejects(() -> f.putDes("d", CVM, kid.substring(0, kid.lastIndexOf('/')), false), 400, "InvalidParameter");
        rejects(() -> f.putDes("d", CVM, kid.replace("/cvm/", "/nokey/"), false), 400, "KeyVaultKeyNotFound");
        ObjectNode noIdentity = f.desBody(CVM, kid, false);
        noIdentity.remove("identity");
        rejects(() -> f.sets.put(f.admin, f.subscription, "rg", "d", noIdentity), 400, "InvalidParameter");
        assertThat(f.sets.list(f.admin, f.subscription, null)).isEmpty();
        assertThat(f.core.resourceIndex().get(f.desId("d"))).isEmpty();
    }

    @Test
    void desIdentityWithoutPermissionFailsAtFirstUseNamingTheGrant() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        String kid = f.key(kv, "cmk", "RSA", false);
        ObjectNode des = f.putDes("des1", CMK, kid, false).resource();
        String principalId = des.path("identity").path("principalId").asText();
        EncryptionKeys.Setting setting = new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth");
        var e = rejects(() -> f.core.encryptionKeys().check(f.admin, setting), 400, "KeyVaultAccessForbidden");
        assertThat(e.getMessage()).contains("az keyvault set-policy -n kv1 --object-id " + principalId
                + " --key-permissions get wrapKey unwrapKey");
        f.grant(kv, principalId, "get", "wrapKey", "unwrapKey");
        f.core.encryptionKeys().check(f.admin, setting);
    }

    @Test
    void managedHsmRefusalNamesTheLocalRole() {
        Store hsm = f.hsm("hsm1");
        String kid = f.key(hsm, "cmk", "RSA-HSM", true);
        ObjectNode des = f.putDes("des1", CVM, kid, false).resource();
        var e = rejects(() -> f.core.encryptionKeys().check(f.admin,
                new EncryptionKeys.Setting("ConfidentialVM_DiskEncryptedWithCustomerKey", f.desId("des1"),
                        "uaenorth")), 400, "KeyVaultAccessForbidden");
        assertThat(e.getMessage()).contains("Managed HSM Crypto Service Encryption User").contains("/keys/cmk");
        f.assign(hsm, "/keys/cmk", DesFixture.HSM_SERVICE_ENCRYPTION_USER,
                f.core.identity().find(des.path("identity").path("principalId").asText()).orElseThrow());
        DataKeyRing ring = f.core.encryptionKeys().ring(new EncryptionKeys.Setting(
                "ConfidentialVM_DiskEncryptedWithCustomerKey", f.desId("des1"), "uaenorth"));
        UUID id = ring.newKey("disk1");
        assertThat(ring.key(id)).isPresent();
    }

    @Test
    void ringRoundTripsDataKeysStoredOnlyWrapped() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        String kid = f.key(kv, "cmk", "RSA", false);
        cmkDesWithItsIdentityGranted(kv, kid);
        DataKeyRing ring = f.core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth"));
        UUID id = ring.newKey("disk1");
        SecretKey key = ring.key(id).orElseThrow();
        assertThat(key.getEncoded()).hasSize(32);
        byte[] wrapped = f.core.metadata().withHandle(h -> h.createQuery("SELECT wrapped FROM compute_data_keys")
                .mapTo(byte[].class).one());
        assertThat(wrapped).hasSize(40);
        assertThat(StorageScanner.findBytes(f.core.metadata(), f.core.blobs(), key.getEncoded(), 16)).isEmpty();
        assertThat(ring.key(UUID.randomUUID())).isEmpty();
        // After a restart the DES key is unwrapped again from storage and resolves the same data key.
        f.close();
        f = new DesFixture(dir);
        DataKeyRing reopened = f.core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, f.desId("des1"),
                "uaenorth"));
        assertThat(reopened.key(id).orElseThrow().getEncoded()).isEqualTo(key.getEncoded());
    }

    @Test
    void aDisabledKeyStopsReadsOnceTheCachedDesKeyIsRevalidated() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        String kid = f.key(kv, "cmk", "RSA", false);
        cmkDesWithItsIdentityGranted(kv, kid);
        DataKeyRing ring = f.core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, f.desId("des1"), "uaenorth"));
        UUID id = ring.newKey("disk1");
        byte[] key = ring.key(id).orElseThrow().getEncoded();
        String version = kid.substring(kid.lastIndexOf('/') + 1);
        f.keys.updateKey(f.admin, kv, "cmk", version,
                io.coffre.json.Json.parse("{\"attributes\":{\"enabled\":false}}"));
        assertThat(ring.key(id)).isPresent();
        f.clock.advance(KeyHierarchy.REVALIDATE_AFTER.plusSeconds(1));
        var e = rejects(() -> ring.key(id), 409, io.coffre.compute.disk.DiskKeyUnavailableException.CODE);
        assertThat(e.getMessage()).contains(id.toString());
        f.keys.updateKey(f.admin, kv, "cmk", version,
                io.coffre.json.Json.parse("{\"attributes\":{\"enabled\":true}}"));
        assertThat(ring.key(id).orElseThrow().getEncoded()).isEqualTo(key);
    }

    @Test
    void aKeyChangeWhileTheFirstDesKeyIsWrappedIsNotMissed() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        String first = f.key(kv, "cmk", "RSA", false);
        cmkDesWithItsIdentityGranted(kv, first);
        String second = f.key(kv, "cmk", "RSA", false);
        // the DES moves to the new version after its first DES key was wrapped under the old one, before it is stored
        KeyHierarchy.beforeFirstDesKeyStored = () -> {
            KeyHierarchy.beforeFirstDesKeyStored = () -> { };
            assertThat(f.putDes("des1", CMK, second, false).rotationOperationId()).as("nothing to rewrap yet").isNull();
        };
        try {
            DataKeyRing ring = f.core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, f.desId("des1"),
                    "uaenorth"));
            UUID id = ring.newKey("disk1");
            byte[] key = ring.key(id).orElseThrow().getEncoded();
            String wrappedBy = f.core.metadata().withHandle(h -> h.createQuery("SELECT kek_key_id FROM"
                    + " compute_wrapped_des_keys").mapTo(String.class).one());
            assertThat(wrappedBy).isEqualToIgnoringCase(second);
            f.keys.updateKey(f.admin, kv, "cmk", first.substring(first.lastIndexOf('/') + 1),
                    io.coffre.json.Json.parse("{\"attributes\":{\"enabled\":false}}"));
            f.clock.advance(KeyHierarchy.REVALIDATE_AFTER.plusSeconds(1));
            assertThat(ring.key(id).orElseThrow().getEncoded()).as("readable with the old version disabled")
                    .isEqualTo(key);
        } finally {
            KeyHierarchy.beforeFirstDesKeyStored = () -> { };
        }
    }

    /** CMK DES {@code des1} on {@code keyUrl}, its identity granted get, wrapKey and unwrapKey on the vault. */
    private void cmkDesWithItsIdentityGranted(Store kv, String keyUrl) {
        String principalId = f.putDes("des1", CMK, keyUrl, false).resource().path("identity").path("principalId")
                .asText();
        f.grant(kv, principalId, "get", "wrapKey", "unwrapKey");
    }

    @Test
    void platformKeyRing() {
        EncryptionKeys.Setting pmk = new EncryptionKeys.Setting("EncryptionAtRestWithPlatformKey", null, "uaenorth");
        f.core.encryptionKeys().check(f.admin, pmk);
        DataKeyRing ring = f.core.encryptionKeys().ring(pmk);
        UUID id = ring.newKey("disk1");
        byte[] key = ring.key(id).orElseThrow().getEncoded();
        assertThat(StorageScanner.findBytes(f.core.metadata(), f.core.blobs(), key, 16)).isEmpty();
        // Any ring resolves any data key id Coffre holds (copies read inherited keys).
        f.vault("kv1", "premium", true, "uaenorth");
        assertThat(f.core.encryptionKeys().ring(new EncryptionKeys.Setting("EncryptionAtRestWithPlatformKey", null,
                "koreacentral")).key(id).orElseThrow().getEncoded()).isEqualTo(key);
        assertThat(f.keys.describeKey(Store.vault("cpmk-uaenorth"), PlatformKeys.KEY_NAME, null)).isPresent();
    }

    @Test
    void deleteIsRefusedWhileResourcesUseTheDes() {
        Store kv = f.vault("kv1", "premium", true, "uaenorth");
        f.putDes("des1", CMK, f.key(kv, "cmk", "RSA", false), false);
        String disk = "/subscriptions/" + f.subscription + "/resourceGroups/rg/providers/Microsoft.Compute/disks/d1";
        f.sets.associate(f.desId("des1"), disk);
        f.sets.associate(f.desId("des1"), disk);
        assertThat(f.sets.associatedResources(f.admin, f.subscription, "rg", "des1")).containsExactly(disk);
        rejects(() -> f.sets.delete(f.admin, f.subscription, "rg", "des1"), 409, "DiskEncryptionSetInUse");
        f.sets.dissociate(f.desId("des1"), disk);
        f.sets.delete(f.admin, f.subscription, "rg", "des1");
        rejects(() -> f.sets.get(f.admin, f.subscription, "rg", "des1"), 404, "ResourceNotFound");
        assertThat(f.core.resourceIndex().get(f.desId("des1"))).isEmpty();
    }
}
