package io.coffre.cli;

import static io.coffre.cli.Urls.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;

/** The key operations of one Key Vault or Managed HSM data plane ({@code https://{name}.vault|managedhsm.{suffix}}). */
final class KeyService {
    static final String API_VERSION = "7.6";

    private final CoffreHttp http;
    private final String base;

    KeyService(CoffreHttp http, String base) {
        this.http = http;
        this.base = base;
    }

    String base() {
        return base;
    }

    private String url(String path) {
        return base + path + "?api-version=" + API_VERSION;
    }

    private static String key(String name) {
        return "/keys/" + encode(name);
    }

    JsonNode create(String name, JsonNode parameters) {
        return http.post(url(key(name) + "/create"), parameters);
    }

    /** @param version null: the latest */
    JsonNode get(String name, String version) {
        return http.get(url(key(name) + (version == null ? "" : "/" + encode(version))));
    }

    /** Updates one version's attributes (e.g. {@code {"attributes":{"enabled":false}}}). */
    JsonNode update(String name, String version, JsonNode parameters) {
        return http.expect("PATCH", url(key(name) + "/" + encode(version)), parameters, 200);
    }

    ArrayNode list() {
        return http.getAll(url("/keys"));
    }

    ArrayNode versions(String name) {
        return http.getAll(url(key(name) + "/versions"));
    }

    JsonNode rotate(String name) {
        return http.post(url(key(name) + "/rotate"), null);
    }

    /** @return the opaque backup blob (all versions) */
    byte[] backup(String name) {
        return Json.unb64url(http.post(url(key(name) + "/backup"), null).path("value").asText(null), "value");
    }

    JsonNode restore(byte[] blob) {
        return http.post(url("/keys/restore"), Json.object().put("value", Json.b64url(blob)));
    }

    JsonNode delete(String name) {
        return http.delete(url(key(name)));
    }

    ArrayNode deleted() {
        return http.getAll(url("/deletedkeys"));
    }

    JsonNode getDeleted(String name) {
        return http.get(url("/deletedkeys/" + encode(name)));
    }

    JsonNode recover(String name) {
        return http.post(url("/deletedkeys/" + encode(name) + "/recover"), null);
    }

    void purge(String name) {
        http.delete(url("/deletedkeys/" + encode(name)));
    }

    /**
     * A cryptographic operation on one version: {@code encrypt}, {@code decrypt}, {@code wrapkey},
     * {@code unwrapkey}, {@code sign}, {@code verify} or {@code release}. Without a version the latest one is read
     * first and named explicitly, as the SDKs' cryptography clients do.
     */
    JsonNode operate(String name, String version, String operation, ObjectNode parameters) {
        String v = version != null ? version : latestVersion(name);
        return http.post(url(key(name) + "/" + encode(v) + "/" + operation), parameters);
    }

    String latestVersion(String name) {
        return ResourceIds.lastSegment(get(name, null).path("key").path("kid").asText());
    }

    JsonNode rotationPolicy(String name) {
        return http.get(url(key(name) + "/rotationpolicy"));
    }

    JsonNode updateRotationPolicy(String name, JsonNode policy) {
        return http.put(url(key(name) + "/rotationpolicy"), policy);
    }
}
