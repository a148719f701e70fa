package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.rejects;
import static io.coffre.keyvault.KeyVaultFixture.version;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key backups restore every version, and only inside their security domain. */
class KeyBackupRestoreTest {
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

    private static ObjectNode blob(ObjectNode backup) {
        ObjectNode body = Json.object();
        body.set("value", backup.get("value"));
        return body;
    }

    private List<JsonNode> versions(Store store, String name) {
        return f.keys.listKeyVersions(f.admin, store, name, 25, null).value().stream()
                .map(v -> (JsonNode) v).toList();
    }

    @Test
    void backupDeletePurgeRestoreKeepsEveryVersionAndThumbprint() {
        Store vault = f.vault("kv-backup", "uaenorth", "premium");
        ObjectNode v1 = f.createKey(vault, "k1", "RSA");
        ObjectNode v2 = f.keys.rotateKey(f.admin, vault, "k1");
        f.keys.updateKey(f.admin, vault, "k1", version(v1), json("{\"attributes\":{\"enabled\":false}}"));
        f.keys.putRotationPolicy(f.admin, vault, "k1", json("{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":"
                + "\"P90D\"},\"action\":{\"type\":\"Rotate\"}}]}"));
        ObjectNode before1 = f.keys.getKey(f.admin, vault, "k1", version(v1));
        ObjectNode before2 = f.keys.getKey(f.admin, vault, "k1", version(v2));
        List<JsonNode> listed = versions(vault, "k1");

        ObjectNode backup = f.keys.backupKey(f.admin, vault, "k1");
        f.keys.deleteKey(f.admin, vault, "k1");
        f.keys.purgeDeletedKey(f.admin, vault, "k1");
        rejects(() -> f.keys.getKey(f.admin, vault, "k1", null), 404, "KeyNotFound");

        ObjectNode restored = f.keys.restoreKey(f.admin, vault, blob(backup));
        assertThat(restored).isEqualTo(before2);
        assertThat(f.keys.getKey(f.admin, vault, "k1", version(v1))).isEqualTo(before1);
        assertThat(versions(vault, "k1")).isEqualTo(listed);
        assertThat(f.keys.getRotationPolicy(f.admin, vault, "k1").path("lifetimeActions").get(0).path("trigger")
                .path("timeAfterCreate").asText()).isEqualTo("P90D");
        // The restored material is the same key: a signature by the old version still verifies.
        String digest = Json.b64url(new byte[32]);
        ObjectNode signature = f.keys.keyOperation(f.admin, vault, "k1", version(v2), "sign",
                json("{\"alg\":\"PS256\",\"value\":\"" + digest + "\"}"));
        assertThat(before2.path("thumbprint").asText()).isEqualTo(restored.path("thumbprint").asText());
        assertThat(f.keys.keyOperation(f.admin, vault, "k1", version(v2), "verify", json("{\"alg\":\"PS256\","
                + "\"digest\":\"" + digest + "\",\"value\":\"" + signature.path("value").asText() + "\"}"))
                .path("value").asBoolean()).isTrue();
    }

    @Test
    void backupIsOpaqueAndBoundToItsHeader() {
        Store vault = f.vault("kv-opaque", "uaenorth", "premium");
        f.keys.importKey(f.admin, vault, "k1", KnownKeys.importParameters(KnownKeys.rsa()));
        String value = f.keys.backupKey(f.admin, vault, "k1").path("value").asText();
        byte[] raw = Json.unb64url(value, "value");
        String asText = new String(raw, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(asText).contains("\"securityDomain\"").doesNotContain(KnownKeys.rsa().path("d").asText())
                .doesNotContain(KnownKeys.rsa().path("p").asText());

        f.keys.deleteKey(f.admin, vault, "k1");
        f.keys.purgeDeletedKey(f.admin, vault, "k1");
        raw[raw.length - 5] ^= 1;
        ObjectNode tampered = Json.object();
        tampered.put("value", Json.b64url(raw));
        assertThat(f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, tampered), 400, "BadParameter")
                .getMessage()).contains("altered");
        f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, json("{\"value\":\"AAAA\"}")), 400,
                "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, json("{}")), 400, "BadParameter");
    }

    @Test
    void restoreOverAnExistingOrSoftDeletedKeyIsAConflict() {
        Store vault = f.vault("kv-conflict", "uaenorth", "premium");
        f.createKey(vault, "k1", "EC");
        ObjectNode backup = f.keys.backupKey(f.admin, vault, "k1");
        ArmException active = f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, blob(backup)), 409,
                "Conflict");
        assertThat(active.getMessage()).contains("A key named k1 already exists (or is soft-deleted)")
                .contains("delete and purge it or restore into another");
        f.keys.deleteKey(f.admin, vault, "k1");
        f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, blob(backup)), 409, "Conflict");
    }

    @Test
    void restoreIntoAnotherVaultOfTheSameSubscriptionAndGeography() {
        Store source = f.vault("kv-north", "uaenorth", "premium");
        Store sameGeography = f.vault("kv-central", "uaecentral", "premium");
        ObjectNode created = f.createKey(source, "k1", "RSA");
        ObjectNode restored = f.keys.restoreKey(f.admin, sameGeography, blob(f.keys.backupKey(f.admin, source, "k1")));
        assertThat(version(restored)).isEqualTo(version(created));
        assertThat(restored.path("key").path("kid").asText()).startsWith(f.core.endpoints().vaultUri("kv-central"));
        assertThat(restored.path("thumbprint")).isEqualTo(created.path("thumbprint"));
    }

    @Test
    void restoreIntoAnotherGeographyOrSubscriptionIsRefused() {
        Store source = f.vault("kv-uae", "uaenorth", "premium");
        Store korea = f.vault("kv-korea", "koreacentral", "premium");
        f.createKey(source, "k1", "RSA");
        ObjectNode backup = blob(f.keys.backupKey(f.admin, source, "k1"));
        ArmException geography = f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, korea, backup), 400,
                "BadParameter");
        assertThat(geography.innerCode()).isEqualTo("SecurityDomainMismatch");
        assertThat(geography.getMessage()).contains("same subscription and geography");

        String otherSubscription = UUID.randomUUID().toString();
        f.core.metadata().withHandle(h -> h.createUpdate("INSERT INTO subscriptions (subscription_id, tenant_id,"
                        + " display_name) VALUES (:s, :t, 'Second')")
                .bind("s", otherSubscription).bind("t", f.core.identity().tenantId()).execute());
        f.core.accessControl().grantBySystem("/subscriptions/" + otherSubscription, KeyVaultFixture.OWNER,
                f.admin.objectId());
        f.core.resourceManager().putResourceGroup(f.admin, otherSubscription, "rg", "uaenorth", Map.of());
        ObjectNode body = (ObjectNode) json("{\"location\":\"uaenorth\",\"properties\":{\"sku\":{\"name\":\"premium\"},"
                + "\"accessPolicies\":[]}}");
        ((ObjectNode) body.get("properties")).set("accessPolicies", Json.MAPPER.createArrayNode()
                .add(KeyVaultFixture.accessPolicy(f.admin, "all")));
        f.keys.putStore(f.admin, otherSubscription, "rg", Store.vault("kv-other-sub"), body);
        ArmException subscription = f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin,
                Store.vault("kv-other-sub"), backup), 400, "BadParameter");
        assertThat(subscription.innerCode()).isEqualTo("SecurityDomainMismatch");
    }

    @Test
    void hsmBackupRestoresOnlyIntoItsOwnDomain() {
        Store hsm = f.hsm("hsm-a");
        Store other = f.hsm("hsm-b");
        ObjectNode created = f.createKey(hsm, "k1", "RSA-HSM");
        ObjectNode backup = blob(f.keys.backupKey(f.admin, hsm, "k1"));
        ArmException e = f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, other, backup), 400,
                "BadParameter");
        assertThat(e.innerCode()).isEqualTo("SecurityDomainMismatch");
        assertThat(e.getMessage()).contains("an HSM sharing its security domain");
        Store vault = f.vault("kv-hsm-target", "uaenorth", "premium");
        f.rejectsWithoutWriting(() -> f.keys.restoreKey(f.admin, vault, backup), 400, "BadParameter");

        f.keys.deleteKey(f.admin, hsm, "k1");
        f.keys.purgeDeletedKey(f.admin, hsm, "k1");
        ObjectNode restored = f.keys.restoreKey(f.admin, hsm, backup);
        assertThat(version(restored)).isEqualTo(version(created));
        assertThat(restored.path("thumbprint")).isEqualTo(created.path("thumbprint"));
    }
}
