package io.coffre.arm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** ARM resource tags: parsed from and written to the {@code "tags"} object with ARM's limits. */
public final class Tags {
    private static final int MAX_TAGS = 50;
    private static final int MAX_NAME = 512;
    private static final int MAX_VALUE = 256;
    private static final String FORBIDDEN_NAME_CHARS = "<>%&\\?/";

    private Tags() {
    }

    /**
     * @param tags the request's {@code tags} member; null or JSON null means no tags
     * @throws ArmException 400 {@code InvalidTag} saying which limit a tag breaks
     */
    public static Map<String, String> parse(JsonNode tags) {
        if (tags == null || tags.isNull()) {
            return Map.of();
        }
        if (!tags.isObject()) {
            throw ArmException.badRequest("InvalidTag", "'tags' must be a JSON object of string names to string values.");
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : tags.properties()) {
            if (!e.getValue().isTextual()) {
                throw ArmException.badRequest("InvalidTag", "The value of tag '" + e.getKey() + "' must be a string.");
            }
            result.put(e.getKey(), e.getValue().asText());
        }
        return validate(result);
    }

    /** @throws ArmException 400 {@code InvalidTag} */
    public static Map<String, String> validate(Map<String, String> tags) {
        if (tags.size() > MAX_TAGS) {
            throw ArmException.badRequest("InvalidTag", "A resource can have at most " + MAX_TAGS + " tags; got "
                    + tags.size() + ".");
        }
        for (Map.Entry<String, String> e : tags.entrySet()) {
            String name = e.getKey();
            if (name.isEmpty() || name.length() > MAX_NAME) {
                throw ArmException.badRequest("InvalidTag", "Tag names must be 1 to " + MAX_NAME + " characters.");
            }
            if (name.chars().anyMatch(c -> FORBIDDEN_NAME_CHARS.indexOf(c) >= 0)) {
                throw ArmException.badRequest("InvalidTagNameCharacters", "The tag name '" + name
                        + "' has characters that are not allowed: " + FORBIDDEN_NAME_CHARS + ".");
            }
            if (e.getValue() == null || e.getValue().length() > MAX_VALUE) {
                throw ArmException.badRequest("InvalidTag", "The value of tag '" + name + "' must be a string of at"
                        + " most " + MAX_VALUE + " characters.");
            }
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(tags));
    }

    public static ObjectNode toJson(Map<String, String> tags) {
        ObjectNode node = Json.object();
        tags.forEach(node::put);
        return node;
    }

    /** Reads tags stored by {@link #toJson}; null or empty text means none. */
    public static Map<String, String> fromStored(String json) {
        return json == null || json.isBlank() ? Map.of() : parse(Json.parse(json));
    }
}
