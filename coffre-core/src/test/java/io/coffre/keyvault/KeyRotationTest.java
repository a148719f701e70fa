package io.coffre.keyvault;

import static io.coffre.keyvault.KeyVaultFixture.json;
import static io.coffre.keyvault.KeyVaultFixture.version;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.NewKeyVersion;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import io.coffre.seal.MasterKey;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyRotationTest {
    private static final String ROTATE_AFTER_90_DAYS = "{\"lifetimeActions\":[{\"trigger\":{\"timeAfterCreate\":"
            + "\"P90D\"},\"action\":{\"type\":\"Rotate\"}}],\"attributes\":{\"expiryTime\":\"P1Y\"}}";

    @TempDir
    Path dir;
    private KeyVaultFixture f;
    private Store vault;

    @BeforeEach
    void open() {
        f = new KeyVaultFixture(dir);
        vault = f.vault("kv-rot", "uaenorth", "premium");
    }

    @AfterEach
    void close() {
        f.close();
    }

    private int versionCount(Store store, String name) {
        return f.keys.listKeyVersions(f.admin, store, name, 25, null).value().size();
    }

    @Test
    void defaultPolicyNotifiesBeforeExpiryAndNeverRotates() {
        f.createKey(vault, "k1", "RSA");
        ObjectNode policy = f.keys.getRotationPolicy(f.admin, vault, "k1");
        assertThat(policy.path("id").asText()).isEqualTo(f.core.endpoints().vaultUri("kv-rot")
                + "/keys/k1/rotationpolicy");
        assertThat(policy.path("lifetimeActions")).singleElement().satisfies(a -> {
            assertThat(a.path("trigger").path("timeBeforeExpiry").asText()).isEqualTo("P30D");
            assertThat(a.path("action").path("type").asText()).isEqualTo("Notify");
        });
        assertThat(policy.path("attributes").has("expiryTime")).isFalse();
        Store hsm = f.hsm("hsm-rot");
        f.createKey(hsm, "k1", "RSA-HSM");
        assertThat(f.keys.getRotationPolicy(f.admin, hsm, "k1").path("lifetimeActions")).isEmpty();
        f.clock.advance(Duration.ofDays(800));
        assertThat(versionCount(vault, "k1")).isEqualTo(1);
    }

    @Test
    void invalidPoliciesAreRejectedNamingTheRule() {
        f.createKey(vault, "k1", "RSA");
        Store hsm = f.hsm("hsm-rules");
        f.createKey(hsm, "k1", "RSA-HSM");
        record Case(Store store, String policy, String rule) {
        }
        List<Case> cases = List.of(
                new Case(vault, action("{\"timeAfterCreate\":\"P6D\"}", "Rotate", null), "at least P7D"),
                new Case(vault, action("{\"timeBeforeExpiry\":\"P6D\"}", "Rotate", "P60D"), "at least P7D"),
                new Case(vault, action("{\"timeAfterCreate\":\"P30D\"}", "Rotate", "P27D"), "at least P28D"),
                new Case(vault, action("{\"timeAfterCreate\":\"P30D\",\"timeBeforeExpiry\":\"P30D\"}", "Rotate",
                        "P1Y"), "exactly one"),
                new Case(vault, action("{}", "Rotate", null), "exactly one"),
                new Case(vault, action("{\"timeAfterCreate\":\"90 days\"}", "Rotate", null), "ISO-8601"),
                new Case(vault, action("{\"timeAfterCreate\":\"P30D\"}", "Explode", null), "Rotate or Notify"),
                new Case(vault, action("{\"timeBeforeExpiry\":\"P30D\"}", "Notify", null), "expiryTime"),
                new Case(vault, action("{\"timeBeforeExpiry\":\"P60D\"}", "Rotate", "P60D"), "shorter than"),
                new Case(vault, "{\"lifetimeActions\":[" + entry("{\"timeAfterCreate\":\"P30D\"}", "Rotate") + ","
                        + entry("{\"timeAfterCreate\":\"P60D\"}", "rotate") + "]}", "at most one Rotate"),
                new Case(vault, "{\"lifetimeActions\":{}}", "array"),
                new Case(hsm, action("{\"timeBeforeExpiry\":\"P30D\"}", "Notify", "P1Y"), "only in Key Vault"));
        for (Case c : cases) {
            ArmException e = f.rejectsWithoutWriting(() -> f.keys.putRotationPolicy(f.admin, c.store(), "k1",
                    json(c.policy())), 400, "BadParameter");
            assertThat(e.getMessage()).as(c.policy()).contains(c.rule());
        }
    }

    private static String entry(String trigger, String type) {
        return "{\"trigger\":" + trigger + ",\"action\":{\"type\":\"" + type + "\"}}";
    }

    private static String action(String trigger, String type, String expiry) {
        return "{\"lifetimeActions\":[" + entry(trigger, type) + "]" + (expiry == null ? ""
                : ",\"attributes\":{\"expiryTime\":\"" + expiry + "\"}") + "}";
    }

    @Test
    void policyIsStoredNormalizedWithItsTimes() {
        f.createKey(vault, "k1", "RSA");
        ObjectNode put = f.keys.putRotationPolicy(f.admin, vault, "k1", json("{\"lifetimeActions\":["
                + entry("{\"timeAfterCreate\":\"p18m\"}", "rotate") + ","
                + entry("{\"timeBeforeExpiry\":\"P30D\"}", "NOTIFY") + "],\"attributes\":{\"expiryTime\":\"P2Y\"}}"));
        assertThat(put.path("lifetimeActions").get(0).path("action").path("type").asText()).isEqualTo("Rotate");
        assertThat(put.path("lifetimeActions").get(0).path("trigger").path("timeAfterCreate").asText())
                .isEqualTo("P18M");
        assertThat(put.path("lifetimeActions").get(1).path("action").path("type").asText()).isEqualTo("Notify");
        assertThat(put.path("attributes").path("expiryTime").asText()).isEqualTo("P2Y");
        assertThat(put.path("attributes").path("created").asLong()).isEqualTo(f.clock.now().getEpochSecond());
        assertThat(f.keys.getRotationPolicy(f.admin, vault, "k1")).isEqualTo(put);
    }

    @Test
    void manualRotationCopiesTheKeyAndAppliesTheExpiryTime() {
        ObjectNode params = (ObjectNode) json("{\"kty\":\"RSA-HSM\",\"key_size\":3072,\"key_ops\":[\"wrapKey\","
                + "\"unwrapKey\"],\"attributes\":{\"exportable\":true},\"tags\":{\"t\":\"v\"}}");
        ObjectNode policy = Json.object();
        policy.put("data", Json.b64url(ReleasePolicy.defaultCvmPolicy(f.core.endpoints().attestationIssuer())));
        params.set("release_policy", policy);
        ObjectNode first = f.keys.createKey(f.admin, vault, "cmk", params);
        f.keys.putRotationPolicy(f.admin, vault, "cmk", json(ROTATE_AFTER_90_DAYS));
        List<NewKeyVersion> heard = Collections.synchronizedList(new ArrayList<>());
        f.keys.onNewKeyVersion(heard::add);

        ObjectNode rotated = f.keys.rotateKey(f.admin, vault, "cmk");
        assertThat(version(rotated)).isNotEqualTo(version(first));
        assertThat(rotated.path("key").path("kty").asText()).isEqualTo("RSA-HSM");
        assertThat(Json.unb64url(rotated.path("key").path("n").asText(), "n")).hasSize(384);
        assertThat(rotated.path("key").path("n")).isNotEqualTo(first.path("key").path("n"));
        assertThat(rotated.path("key").path("key_ops")).isEqualTo(first.path("key").path("key_ops"));
        assertThat(rotated.path("release_policy")).isEqualTo(first.path("release_policy"));
        assertThat(rotated.path("attributes").path("exportable").asBoolean()).isTrue();
        assertThat(rotated.path("tags")).isEqualTo(first.path("tags"));
        Instant created = Instant.ofEpochSecond(rotated.path("attributes").path("created").asLong());
        assertThat(rotated.path("attributes").path("exp").asLong())
                .isEqualTo(created.atZone(ZoneOffset.UTC).plusYears(1).toInstant().getEpochSecond());
        assertThat(heard).singleElement().satisfies(e -> assertThat(e.keyId())
                .isEqualTo(rotated.path("key").path("kid").asText()));
    }

    @Test
    void automaticRotationHappensOncePerDueDate() {
        f.createKey(vault, "auto", "EC");
        f.keys.putRotationPolicy(f.admin, vault, "auto", json(ROTATE_AFTER_90_DAYS));
        List<NewKeyVersion> heard = Collections.synchronizedList(new ArrayList<>());
        f.keys.onNewKeyVersion(heard::add);

        f.clock.advance(Duration.ofDays(89));
        assertThat(versionCount(vault, "auto")).isEqualTo(1);
        f.clock.advance(Duration.ofDays(2));
        assertThat(versionCount(vault, "auto")).isEqualTo(2);
        assertThat(heard).hasSize(1);
        ObjectNode latest = f.keys.getKey(f.admin, vault, "auto", null);
        assertThat(heard.get(0).keyId()).isEqualTo(latest.path("key").path("kid").asText());
        JsonNode attributes = latest.path("attributes");
        assertThat(attributes.path("exp").asLong()).isEqualTo(Instant.ofEpochSecond(attributes.path("created")
                .asLong()).atZone(ZoneOffset.UTC).plusYears(1).toInstant().getEpochSecond());
        assertThat(f.core.audit().list(f.core.endpoints().vaultUri("kv-rot") + "/keys/auto", 100))
                .anySatisfy(e -> {
                    assertThat(e.operation()).isEqualTo("KeyRotate");
                    assertThat(e.keyVersion()).isEqualTo(version(latest));
                });

        f.clock.advance(Duration.ofDays(1));
        f.clock.advance(Duration.ofDays(88));
        assertThat(versionCount(vault, "auto")).isEqualTo(2);
        f.clock.advance(Duration.ofDays(1).plusMinutes(1));
        assertThat(versionCount(vault, "auto")).isEqualTo(3);
        assertThat(heard).hasSize(2);
    }

    @Test
    void rotationBeforeExpiryFollowsTheLatestVersionsExp() {
        long now = f.clock.now().getEpochSecond();
        f.keys.createKey(f.admin, vault, "exp", json("{\"kty\":\"EC\",\"attributes\":{\"exp\":" + (now + 60 * 86_400L)
                + "}}"));
        f.keys.putRotationPolicy(f.admin, vault, "exp", json(action("{\"timeBeforeExpiry\":\"P30D\"}", "Rotate",
                "P90D")));
        f.clock.advance(Duration.ofDays(29));
        assertThat(versionCount(vault, "exp")).isEqualTo(1);
        f.clock.advance(Duration.ofDays(2));
        assertThat(versionCount(vault, "exp")).isEqualTo(2);
        JsonNode attributes = f.keys.getKey(f.admin, vault, "exp", null).path("attributes");
        assertThat(attributes.path("exp").asLong() - attributes.path("created").asLong()).isEqualTo(90 * 86_400L);
    }

    @Test
    void concurrentSchedulersOfTwoNodesRotateOnce() throws Exception {
        f.createKey(vault, "raced", "EC");
        f.clock.advance(Duration.ofDays(91));
        // The policy arrives when its rotation is already due; both nodes then run at the same instant.
        f.keys.putRotationPolicy(f.admin, vault, "raced", json(ROTATE_AFTER_90_DAYS));
        MasterKey masterKey = MasterKey.resolve(null, dir);
        try (KeyService second = KeyServices.open(f.core.metadata(), masterKey.sealer(), f.core.endpoints(), f.clock,
                f.core.identity(), f.core.accessControl(), f.core.resourceManager(), f.core.resourceIndex(),
                f.core.audit(), f.core.attestation())) {
            List<KeyScheduler> schedulers = List.of(((AuditedKeyService) f.keys).scheduler(),
                    ((AuditedKeyService) second).scheduler());
            ExecutorService pool = Executors.newFixedThreadPool(schedulers.size());
            try {
                for (int round = 0; round < 3; round++) {
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<?>> runs = new ArrayList<>();
                    for (KeyScheduler scheduler : schedulers) {
                        runs.add(pool.submit(() -> {
                            start.await();
                            scheduler.runDue();
                            return null;
                        }));
                    }
                    start.countDown();
                    for (Future<?> run : runs) {
                        run.get();
                    }
                    assertThat(versionCount(vault, "raced")).as("after round %d", round).isEqualTo(2);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
