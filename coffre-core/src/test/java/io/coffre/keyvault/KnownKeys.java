package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The fixed RSA, EC and oct test keys of {@code known-keys.json}, as private JWKs. */
final class KnownKeys {
    private static final JsonNode KEYS = load();

    private KnownKeys() {
    }

    static ObjectNode rsa() {
        return KEYS.get("rsa").deepCopy();
    }

    static ObjectNode ec() {
        return KEYS.get("ec").deepCopy();
    }

    static ObjectNode oct() {
        return KEYS.get("oct").deepCopy();
    }

    /** {@code {"key": jwk}} plus the given import parameters. */
    static ObjectNode importParameters(ObjectNode jwk) {
        ObjectNode params = Json.object();
        params.set("key", jwk);
        return params;
    }

    private static JsonNode load() {
        try (InputStream in = KnownKeys.class.getResourceAsStream("known-keys.json")) {
            return Json.MAPPER.readTree(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
