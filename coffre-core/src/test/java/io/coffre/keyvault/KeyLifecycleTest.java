package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.rejects;
import static io.coffre.keyvault.KeyVaultFixture.version;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Page;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyLifecycleTest {
    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Store premium;
    private Store standard;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        premium = f.vault("kv-premium", "uaenorth", "premium");
        standard = f.vault("kv-standard", "uaenorth", "standard");
    }

    @AfterEach
    void close() {
        f.close();
    }

    private ObjectNode cvmPolicy(boolean immutable) {
        ObjectNode policy = Json.object();
        policy.put("contentType", "application/json; charset=utf-8");
        policy.put("data", Json.b64url(ReleasePolicy.defaultCvmPolicy(f.core.endpoints().attestationIssuer())));
        policy.put("immutable", immutable);
        return policy;
    }

    @Test
    void createReturnsAKeyBundleWithPublicPartsOnly() {
        ObjectNode bundle = f.keys.createKey(f.admin, premium, "cmk", json("{\"kty\":\"RSA-HSM\",\"key_size\":3072,"
                + "\"key_ops\":[\"wrapKey\",\"unwrapKey\"],\"tags\":{\"purpose\":\"des\"}}"));
        JsonNode key = bundle.path("key");
        assertThat(key.path("kid").asText()).matches(f.core.endpoints().vaultUri("kv-premium").replace(".", "\\.")
                + "/keys/cmk/[0-9a-f]{32}");
        assertThat(key.path("kty").asText()).isEqualTo("RSA-HSM");
        assertThat(Json.unb64url(key.path("n").asText(), "n")).hasSize(384);
        assertThat(key.path("e").asText()).isEqualTo("AQAB");
        assertThat(key.has("d") || key.has("p") || key.has("q")).isFalse();
        assertThat(key.path("key_ops")).extracting(JsonNode::asText).containsExactly("wrapKey", "unwrapKey");
        JsonNode attributes = bundle.path("attributes");
        assertThat(attributes.path("enabled").asBoolean()).isTrue();
        assertThat(attributes.path("created").asLong()).isEqualTo(f.clock.now().getEpochSecond());
        assertThat(attributes.path("recoveryLevel").asText()).isEqualTo("Recoverable+Purgeable");
        assertThat(attributes.path("recoverableDays").asInt()).isEqualTo(90);
        assertThat(bundle.path("tags").path("purpose").asText()).isEqualTo("des");
        assertThat(bundle.path("thumbprint").asText()).hasSize(43);
        assertThat(f.keys.getKey(f.admin, premium, "CMK", "")).isEqualTo(bundle);
    }

    @Test
    void createOnAnExistingNameAddsAVersionAndTellsListeners() {
        List<KeyService.NewKeyVersion> heard = new ArrayList<>();
        f.keys.onNewKeyVersion(heard::add);
        ObjectNode first = f.createKey(premium, "k1", "EC");
        assertThat(heard).isEmpty();
        ObjectNode second = f.createKey(premium, "k1", "EC");
        assertThat(version(second)).isNotEqualTo(version(first));
        assertThat(heard).singleElement().satisfies(e -> {
            assertThat(e.keyId()).isEqualTo(second.path("key").path("kid").asText());
            assertThat(e.keyName()).isEqualTo("k1");
            assertThat(e.store()).isEqualTo(premium);
        });
        assertThat(f.keys.getKey(f.admin, premium, "k1", null)).isEqualTo(second);
        assertThat(f.keys.getKey(f.admin, premium, "k1", version(first))).isEqualTo(first);
    }

    @Test
    void malformedCreateRequestsAreRejectedWithoutWriting() {
        record Case(String name, String body, String expected) {
        }
        List<Case> cases = List.of(
                new Case("bad_name", "{\"kty\":\"RSA\"}", "key name"),
                new Case("x".repeat(128), "{\"kty\":\"RSA\"}", "1-127"),
                new Case("k", "{}", "kty"),
                new Case("k", "{\"kty\":\"DSA\"}", "DSA"),
                new Case("k", "{\"kty\":\"RSA\",\"key_size\":1024}", "1024"),
                new Case("k", "{\"kty\":\"RSA\",\"key_size\":\"big\"}", "key_size"),
                new Case("k", "{\"kty\":\"EC\",\"crv\":\"P-999\"}", "P-999"),
                new Case("k", "{\"kty\":\"RSA\",\"key_ops\":[\"frobnicate\"]}", "frobnicate"),
                new Case("k", "{\"kty\":\"EC\",\"key_ops\":[\"encrypt\"]}", "encrypt"),
                new Case("k", "{\"kty\":\"RSA\",\"attributes\":{\"nbf\":200,\"exp\":100}}", "exp"),
                new Case("k", "{\"kty\":\"RSA\",\"attributes\":{\"enabled\":\"yes\"}}", "enabled"),
                new Case("k", "{\"kty\":\"RSA\",\"tags\":{\"a\":1}}", "tag 'a'"),
                new Case("k", "{\"kty\":\"oct-HSM\"}", "managed HSM"),
                new Case("k", "{\"kty\":\"RSA\",\"attributes\":{\"exportable\":true}}", "AKV.SKR.1004"),
                new Case("k", "{\"kty\":\"RSA\",\"release_policy\":{\"data\":\"" + Json.b64url("{\"version\":\"9\"}"
                        .getBytes()) + "\"}}", "version"));
        for (Case c : cases) {
            ArmException e = f.rejectsWithoutWriting(() -> f.keys.createKey(f.admin, premium, c.name(),
                    json(c.body())), 400, "BadParameter");
            assertThat(e.getMessage()).as(c.body()).contains(c.expected());
        }
    }

    @Test
    void placementRulesOfStandardVaultsAndHsms() {
        assertThat(f.rejectsWithoutWriting(() -> f.createKey(standard, "k", "RSA-HSM"), 400, "BadParameter")
                .getMessage()).contains("Premium").contains("RSA-HSM");
        ObjectNode exportable = (ObjectNode) json("{\"kty\":\"RSA\",\"attributes\":{\"exportable\":true}}");
        exportable.set("release_policy", cvmPolicy(false));
        assertThat(f.rejectsWithoutWriting(() -> f.keys.createKey(f.admin, standard, "k", exportable), 400,
                "BadParameter").getMessage()).contains("AKV.SKR.1001");
        Store hsm = f.hsm("hsm-place");
        assertThat(f.rejectsWithoutWriting(() -> f.createKey(hsm, "k", "RSA"), 400, "BadParameter").getMessage())
                .contains("RSA-HSM, EC-HSM or oct-HSM").contains("'RSA'");
        assertThat(f.createKey(hsm, "aes", "oct-HSM").path("key").has("k")).isFalse();
    }

    @Test
    void importKeepsThePublicKeyAndHonoursTheHsmFlag() {
        ObjectNode params = KnownKeys.importParameters(KnownKeys.rsa());
        params.put("Hsm", true);
        ObjectNode bundle = f.keys.importKey(f.admin, premium, "imported", params);
        assertThat(bundle.path("key").path("kty").asText()).isEqualTo("RSA-HSM");
        assertThat(bundle.path("key").path("n").asText()).isEqualTo(KnownKeys.rsa().path("n").asText());
        assertThat(bundle.path("key").has("d")).isFalse();

        ObjectNode broken = KnownKeys.rsa();
        broken.put("d", Json.b64url(new byte[256]));
        f.rejectsWithoutWriting(() -> f.keys.importKey(f.admin, premium, "broken",
                KnownKeys.importParameters(broken)), 400, "BadParameter");
        f.rejectsWithoutWriting(() -> f.keys.importKey(f.admin, premium, "nokey", json("{}")), 400, "BadParameter");
        ObjectNode hsmFlagOnStandard = KnownKeys.importParameters(KnownKeys.rsa());
        hsmFlagOnStandard.put("Hsm", true);
        f.rejectsWithoutWriting(() -> f.keys.importKey(f.admin, standard, "x", hsmFlagOnStandard), 400,
                "BadParameter");
    }

    @Test
    void updateChangesAttributesButNotExportabilityOrAnImmutablePolicy() {
        ObjectNode params = (ObjectNode) json("{\"kty\":\"RSA-HSM\",\"attributes\":{\"exportable\":true}}");
        params.set("release_policy", cvmPolicy(true));
        ObjectNode created = f.keys.createKey(f.admin, premium, "exp", params);
        f.clock.advance(Duration.ofSeconds(30));
        ObjectNode updated = f.keys.updateKey(f.admin, premium, "exp", null,
                json("{\"attributes\":{\"enabled\":false,\"exp\":4102444800},\"tags\":{\"t\":\"1\"}}"));
        assertThat(updated.path("attributes").path("enabled").asBoolean()).isFalse();
        assertThat(updated.path("attributes").path("exp").asLong()).isEqualTo(4102444800L);
        assertThat(updated.path("attributes").path("updated").asLong())
                .isGreaterThan(created.path("attributes").path("updated").asLong());
        assertThat(updated.path("tags").path("t").asText()).isEqualTo("1");
        // A disabled key is still returned by get.
        assertThat(f.keys.getKey(f.admin, premium, "exp", null)).isEqualTo(updated);

        f.rejectsWithoutWriting(() -> f.keys.updateKey(f.admin, premium, "exp", null,
                json("{\"attributes\":{\"exportable\":false}}")), 400, "BadParameter");
        ObjectNode otherPolicy = Json.object();
        otherPolicy.set("release_policy", cvmPolicy(false));
        ArmException immutable = f.rejectsWithoutWriting(() -> f.keys.updateKey(f.admin, premium, "exp", null,
                otherPolicy), 409, "Conflict");
        assertThat(immutable.innerCode()).isEqualTo("ReleasePolicyImmutable");
        f.rejectsWithoutWriting(() -> f.keys.updateKey(f.admin, premium, "exp", "0".repeat(32), json("{}")), 404,
                "KeyNotFound");
    }

    @Test
    void listsPageThroughKeysAndVersions() {
        for (String name : List.of("e", "a", "d", "b", "c")) {
            f.createKey(premium, name, "EC");
        }
        List<String> names = new ArrayList<>();
        String token = null;
        do {
            Page page = f.keys.listKeys(f.admin, premium, 2, token);
            assertThat(page.value().size()).isLessThanOrEqualTo(2);
            page.value().forEach(item -> {
                assertThat(item.path("kid").asText()).doesNotMatch(".*/[0-9a-f]{32}$");
                names.add(item.path("kid").asText().substring(item.path("kid").asText().lastIndexOf('/') + 1));
            });
            token = page.nextSkipToken();
        } while (token != null);
        assertThat(names).containsExactly("a", "b", "c", "d", "e");

        f.createKey(premium, "a", "EC");
        f.createKey(premium, "a", "EC");
        Page first = f.keys.listKeyVersions(f.admin, premium, "a", 2, null);
        assertThat(first.value()).hasSize(2);
        Page rest = f.keys.listKeyVersions(f.admin, premium, "a", 2, first.nextSkipToken());
        assertThat(rest.value()).hasSize(1);
        assertThat(rest.nextSkipToken()).isNull();
        assertThat(rest.value().get(0).path("kid").asText()).matches(".*/keys/a/[0-9a-f]{32}");
        rejects(() -> f.keys.listKeys(f.admin, premium, 26, null), 400, "BadParameter");
    }

    @Test
    void softDeleteRecoverAndPurge() {
        ObjectNode created = f.createKey(premium, "gone", "RSA");
        rejects(() -> f.keys.getDeletedKey(f.admin, premium, "gone"), 404, "KeyNotFound");
        rejects(() -> f.keys.recoverDeletedKey(f.admin, premium, "gone"), 404, "KeyNotFound");
        rejects(() -> f.keys.purgeDeletedKey(f.admin, premium, "gone"), 404, "KeyNotFound");

        ObjectNode deleted = f.keys.deleteKey(f.admin, premium, "gone");
        long now = f.clock.now().getEpochSecond();
        assertThat(deleted.path("recoveryId").asText()).isEqualTo(f.core.endpoints().vaultUri("kv-premium")
                + "/deletedkeys/gone");
        assertThat(deleted.path("deletedDate").asLong()).isEqualTo(now);
        assertThat(deleted.path("scheduledPurgeDate").asLong()).isEqualTo(now + 90 * 86_400L);
        assertThat(deleted.path("key")).isEqualTo(created.path("key"));
        rejects(() -> f.keys.getKey(f.admin, premium, "gone", null), 404, "KeyNotFound");
        assertThat(f.keys.getDeletedKey(f.admin, premium, "gone")).isEqualTo(deleted);
        assertThat(f.keys.listDeletedKeys(f.admin, premium, 25, null).value()).singleElement()
                .satisfies(item -> assertThat(item.path("recoveryId").asText()).endsWith("/deletedkeys/gone"));
        ArmException reuse = f.rejectsWithoutWriting(() -> f.createKey(premium, "gone", "RSA"), 409, "Conflict");
        assertThat(reuse.innerCode()).isEqualTo("ObjectIsDeletedButRecoverable");

        assertThat(f.keys.recoverDeletedKey(f.admin, premium, "gone").path("key")).isEqualTo(created.path("key"));
        assertThat(f.keys.listDeletedKeys(f.admin, premium, 25, null).value()).isEmpty();

        f.keys.deleteKey(f.admin, premium, "gone");
        f.keys.purgeDeletedKey(f.admin, premium, "gone");
        rejects(() -> f.keys.getDeletedKey(f.admin, premium, "gone"), 404, "KeyNotFound");
        assertThat(f.createKey(premium, "gone", "RSA").path("key").path("n"))
                .isNotEqualTo(created.path("key").path("n"));
    }

    @Test
    void purgeProtectionRefusesPurgeAndTheSchedulerPurgesOnTheDate() {
        Store protectedVault = f.vault("kv-protected", "uaenorth", "premium", (ObjectNode) json(
                "{\"enablePurgeProtection\":true,\"softDeleteRetentionInDays\":7}"));
        f.createKey(protectedVault, "k", "RSA");
        ObjectNode deleted = f.keys.deleteKey(f.admin, protectedVault, "k");
        assertThat(deleted.path("attributes").path("recoveryLevel").asText()).isEqualTo("CustomizedRecoverable");
        ArmException refused = f.rejectsWithoutWriting(() -> f.keys.purgeDeletedKey(f.admin, protectedVault, "k"),
                403, "Forbidden");
        assertThat(refused.innerCode()).isEqualTo("ForbiddenByPolicy");
        assertThat(refused.getMessage()).contains("purge protection is enabled on this key vault")
                .contains(java.time.Instant.ofEpochSecond(deleted.path("scheduledPurgeDate").asLong()).toString());

        f.clock.advance(Duration.ofDays(6));
        assertThat(f.keys.getDeletedKey(f.admin, protectedVault, "k")).isNotNull();
        f.clock.advance(Duration.ofDays(1).plusSeconds(1));
        rejects(() -> f.keys.getDeletedKey(f.admin, protectedVault, "k"), 404, "KeyNotFound");
        assertThat(f.core.audit().list(f.core.endpoints().vaultUri("kv-protected") + "/keys/k", 100))
                .anySatisfy(e -> assertThat(e.operation()).isEqualTo("KeyPurge"));
    }

    @Test
    void unknownStoresAreNotFound() {
        rejects(() -> f.keys.getKey(f.admin, Store.vault("nowhere"), "k", null), 404, "VaultNotFound");
        rejects(() -> f.keys.getKey(f.admin, Store.hsm("nowhere"), "k", null), 404, "ManagedHsmNotFound");
        rejects(() -> f.keys.getKey(f.admin, premium, "missing", null), 404, "KeyNotFound");
    }
}
