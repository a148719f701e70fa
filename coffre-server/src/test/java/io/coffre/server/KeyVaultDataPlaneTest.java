package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.json.Json;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.RSAPublicKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Key Vault data plane end to end: real server, real key service, raw HTTPS. Checks the wire shapes the SDKs
 * rely on (reference azure-rest-shapes §1): kid format, base64url without padding, Unix-second timestamps, n/e,
 * paging with verbatim next links, and the paths that could collide.
 */
class KeyVaultDataPlaneTest {
    static final String V = "?api-version=7.6";
    static final String VERSION_ID = "[0-9a-f]{32}";

    static TestServer server;
    static String token;
    static String host;

    @BeforeAll
    static void start() {
        server = TestServer.start();
        CoffreCore core = server.server().core();
        token = core.identity().issueToken(core.identity().admin(), List.of(core.endpoints().vaultResource(),
                core.endpoints().managementResource()), Duration.ofHours(1));
        host = KeyStores.createVault(server, token, "kv1");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static HttpResponse<String> send(String method, String path, String body) {
        return server.send(method, host, path, token, body);
    }

    static JsonNode ok(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Json.parse(r.body());
    }

    static String base() {
        return "https://" + host + ":" + server.port();
    }

    static void assertB64Url(JsonNode field) {
        assertThat(field.isTextual()).as("base64url text").isTrue();
        assertThat(field.asText()).matches("[A-Za-z0-9_-]+");
    }

    static void assertUnixSeconds(JsonNode field) {
        assertThat(field.isIntegralNumber()).as(field + " is an integer").isTrue();
        long now = Instant.now().getEpochSecond();
        assertThat(field.asLong()).isBetween(now - 600, now + 600);
    }

    static byte[] b64(String text) {
        return Base64.getUrlDecoder().decode(text);
    }

    @Test
    void createdRsaKeyHasTheSdkWireShape() {
        JsonNode bundle = ok(send("POST", "/keys/shape/create" + V,
                "{\"kty\":\"RSA\",\"key_size\":3072,\"tags\":{\"purpose\":\"test\"}}"));
        JsonNode key = bundle.path("key");
        assertThat(key.path("kid").asText()).matches(base().replace(".", "\\.") + "/keys/shape/" + VERSION_ID);
        assertThat(key.path("kty").asText()).isEqualTo("RSA");
        assertB64Url(key.path("n"));
        assertB64Url(key.path("e"));
        assertThat(key.path("e").asText()).isEqualTo("AQAB");
        assertThat(new BigInteger(1, b64(key.path("n").asText())).bitLength()).isEqualTo(3072);
        assertThat(key.has("d")).as("no private material").isFalse();
        assertThat(key.path("key_ops").toString()).contains("wrapKey", "unwrapKey", "sign", "verify");
        JsonNode attributes = bundle.path("attributes");
        assertThat(attributes.path("enabled").asBoolean()).isTrue();
        assertUnixSeconds(attributes.path("created"));
        assertUnixSeconds(attributes.path("updated"));
        assertThat(attributes.path("recoveryLevel").asText()).isNotEmpty();
        assertThat(bundle.at("/tags/purpose").asText()).isEqualTo("test");

        String kid = key.path("kid").asText();
        String version = kid.substring(kid.lastIndexOf('/') + 1);
        for (String path : new String[] {"/keys/shape", "/keys/shape/", "/keys/shape/" + version, "/KEYS/shape/"}) {
            assertThat(ok(send("GET", path + V, null)).at("/key/kid").asText()).as(path).isEqualTo(kid);
        }
        HttpResponse<String> missing = send("GET", "/keys/nosuchkey" + V, null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(Json.parse(missing.body()).at("/error/code").asText()).isEqualTo("KeyNotFound");
    }

    @Test
    void wrapUnwrapSignVerifyEncryptDecrypt() throws Exception {
        JsonNode key = ok(send("POST", "/keys/ops/create" + V, "{\"kty\":\"RSA\",\"key_size\":2048}")).path("key");
        String kid = key.path("kid").asText();
        String version = kid.substring(kid.lastIndexOf('/') + 1);
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);

        JsonNode wrapped = ok(send("POST", "/keys/ops/wrapKey" + V,
                "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + Json.b64url(secret) + "\"}"));
        assertThat(wrapped.path("kid").asText()).isEqualTo(kid);
        assertB64Url(wrapped.path("value"));
        JsonNode unwrapped = ok(send("POST", "/keys/ops/" + version + "/unwrapkey" + V,
                "{\"alg\":\"RSA-OAEP-256\",\"value\":\"" + wrapped.path("value").asText() + "\"}"));
        assertThat(b64(unwrapped.path("value").asText())).isEqualTo(secret);

        JsonNode encrypted = ok(send("POST", "/keys/ops/" + version + "/encrypt" + V,
                "{\"alg\":\"RSA-OAEP\",\"value\":\"" + Json.b64url(secret) + "\"}"));
        JsonNode decrypted = ok(send("POST", "/keys/ops/decrypt" + V,
                "{\"alg\":\"RSA-OAEP\",\"value\":\"" + encrypted.path("value").asText() + "\"}"));
        assertThat(b64(decrypted.path("value").asText())).isEqualTo(secret);

        byte[] digest = MessageDigest.getInstance("SHA-256").digest("to be signed".getBytes());
        JsonNode signed = ok(send("POST", "/keys/ops/sign" + V,
                "{\"alg\":\"RS256\",\"value\":\"" + Json.b64url(digest) + "\"}"));
        assertB64Url(signed.path("value"));
        JsonNode verified = ok(send("POST", "/keys/ops/" + version + "/verify" + V, "{\"alg\":\"RS256\",\"digest\":\""
                + Json.b64url(digest) + "\",\"value\":\"" + signed.path("value").asText() + "\"}"));
        assertThat(verified.path("value").asBoolean()).isTrue();
        // The signature is a plain RS256 signature under the public key the service published.
        PublicKey publicKey = KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(
                new BigInteger(1, b64(key.path("n").asText())), new BigInteger(1, b64(key.path("e").asText()))));
        Signature check = Signature.getInstance("SHA256withRSA");
        check.initVerify(publicKey);
        check.update("to be signed".getBytes());
        assertThat(check.verify(b64(signed.path("value").asText()))).isTrue();
    }

    @Test
    void updateRotateVersionsAndRotationPolicy() {
        String first = ok(send("POST", "/keys/rot/create" + V, "{\"kty\":\"RSA\"}")).at("/key/kid").asText();
        JsonNode updated = ok(send("PATCH", "/keys/rot/" + V, "{\"tags\":{\"a\":\"b\"}}"));
        assertThat(updated.at("/tags/a").asText()).isEqualTo("b");
        String second = ok(send("POST", "/keys/rot/rotate" + V, null)).at("/key/kid").asText();
        assertThat(second).isNotEqualTo(first).startsWith(base() + "/keys/rot/");
        assertThat(ok(send("GET", "/keys/rot" + V, null)).at("/key/kid").asText()).isEqualTo(second);
        JsonNode versions = ok(send("GET", "/keys/rot/versions" + V, null));
        Set<String> kids = new HashSet<>();
        versions.path("value").forEach(item -> kids.add(item.path("kid").asText()));
        assertThat(kids).containsExactlyInAnyOrder(first, second);

        JsonNode policy = ok(send("PUT", "/keys/rot/rotationpolicy" + V, "{\"lifetimeActions\":[{\"trigger\":"
                + "{\"timeAfterCreate\":\"P90D\"},\"action\":{\"type\":\"Rotate\"}}],\"attributes\":{\"expiryTime\":\"P2Y\"}}"));
        assertThat(policy.path("id").asText()).isEqualTo(base() + "/keys/rot/rotationpolicy");
        assertUnixSeconds(policy.at("/attributes/created"));
        JsonNode read = ok(send("GET", "/keys/rot/rotationpolicy" + V, null));
        assertThat(read.at("/lifetimeActions/0/trigger/timeAfterCreate").asText()).isEqualTo("P90D");
        assertThat(read.at("/attributes/expiryTime").asText()).isEqualTo("P2Y");
    }

    @Test
    void backupDeletePurgeRestoreAndRecover() {
        String kid = ok(send("POST", "/keys/bk/create" + V, "{\"kty\":\"RSA\"}")).at("/key/kid").asText();
        String kid2 = ok(send("POST", "/keys/bk/rotate" + V, null)).at("/key/kid").asText();
        JsonNode backup = ok(send("POST", "/keys/bk/backup" + V, null));
        assertB64Url(backup.path("value"));

        JsonNode deleted = ok(send("DELETE", "/keys/bk" + V, null));
        assertThat(deleted.path("recoveryId").asText()).isEqualTo(base() + "/deletedkeys/bk");
        assertUnixSeconds(deleted.path("deletedDate"));
        assertThat(deleted.path("scheduledPurgeDate").isIntegralNumber()).isTrue();
        assertThat(send("GET", "/keys/bk" + V, null).statusCode()).isEqualTo(404);
        assertThat(ok(send("GET", "/deletedkeys/bk" + V, null)).at("/key/kid").asText()).isEqualTo(kid2);
        assertThat(ok(send("GET", "/deletedkeys" + V, null)).path("value").toString()).contains("/deletedkeys/bk");

        HttpResponse<String> purged = send("DELETE", "/deletedkeys/bk" + V, null);
        assertThat(purged.statusCode()).isEqualTo(204);
        assertThat(send("GET", "/deletedkeys/bk" + V, null).statusCode()).isEqualTo(404);

        JsonNode restored = ok(send("POST", "/keys/restore" + V, "{\"value\":\"" + backup.path("value").asText() + "\"}"));
        assertThat(restored.at("/key/kid").asText()).isEqualTo(kid2);
        Set<String> kids = new HashSet<>();
        ok(send("GET", "/keys/bk/versions" + V, null)).path("value").forEach(i -> kids.add(i.path("kid").asText()));
        assertThat(kids).containsExactlyInAnyOrder(kid, kid2);
        HttpResponse<String> again = send("POST", "/keys/restore" + V, "{\"value\":\"" + backup.path("value").asText() + "\"}");
        assertThat(again.statusCode()).as("restore over an existing key").isEqualTo(409);

        ok(send("DELETE", "/keys/bk" + V, null));
        assertThat(ok(send("POST", "/deletedkeys/bk/recover" + V, null)).at("/key/kid").asText()).isEqualTo(kid2);
        assertThat(ok(send("GET", "/keys/bk/" + V, null)).at("/key/kid").asText()).isEqualTo(kid2);
    }

    @Test
    void keysNamedLikeRouteWordsStayKeys() {
        for (String name : new String[] {"restore", "versions", "create", "rotationpolicy"}) {
            String kid = ok(send("POST", "/keys/" + name + "/create" + V, "{\"kty\":\"RSA\"}")).at("/key/kid").asText();
            assertThat(kid).startsWith(base() + "/keys/" + name + "/");
            assertThat(ok(send("GET", "/keys/" + name + V, null)).at("/key/kid").asText()).isEqualTo(kid);
            assertThat(ok(send("GET", "/keys/" + name + "/versions" + V, null)).path("value")).hasSize(1);
        }
        assertThat(ok(send("GET", "/keys/restore/" + V, null)).at("/key/kid").asText()).contains("/keys/restore/");
    }

    @Test
    void pagesThirtyKeysThroughVerbatimNextLinks() {
        TestServer own = TestServer.start();
        try {
            CoffreCore core = own.server().core();
            String t = core.identity().issueToken(core.identity().admin(), List.of(core.endpoints().vaultResource(),
                    core.endpoints().managementResource()), Duration.ofHours(1));
            String h = KeyStores.createVault(own, t, "kv2");
            for (int i = 0; i < 30; i++) {
                assertThat(own.send("POST", h, "/keys/page" + i + "/create" + V, t, "{\"kty\":\"RSA\",\"key_size\":2048}")
                        .statusCode()).isEqualTo(200);
            }
            for (int maxResults : new int[] {0, 7}) {
                String first = "/keys" + V + (maxResults == 0 ? "" : "&maxresults=" + maxResults);
                JsonNode page = Json.parse(own.send("GET", h, first, t, null).body());
                Set<String> kids = new HashSet<>();
                int pages = 0;
                while (true) {
                    pages++;
                    assertThat(page.path("value").size()).isLessThanOrEqualTo(maxResults == 0 ? 25 : maxResults);
                    page.path("value").forEach(item -> {
                        assertThat(item.path("kid").asText()).matches("https://" + h.replace(".", "\\.") + ":"
                                + own.port() + "/keys/page[0-9]+");
                        kids.add(item.path("kid").asText());
                    });
                    JsonNode next = page.path("nextLink");
                    if (next.isNull() || next.isMissingNode()) {
                        break;
                    }
                    assertThat(next.asText()).startsWith("https://" + h + ":" + own.port() + "/keys?");
                    HttpResponse<String> r = own.send(HttpRequest.newBuilder(URI.create(next.asText())).GET()
                            .header("Authorization", "Bearer " + t));
                    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                    page = Json.parse(r.body());
                }
                assertThat(kids).as("maxresults " + maxResults).hasSize(30);
                int full = maxResults == 0 ? 2 : 5;
                assertThat(pages).as("a last empty page is allowed").isBetween(full, full + 1);
            }
        } finally {
            own.close();
        }
    }
}
