package io.coffre.keyvault.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A key release policy (Key Vault policy grammar 1.0): a top-level {@code anyOf} of attestation authorities, each with
 * one {@code allOf} or {@code anyOf} of nestable conditions on token claims, where the only operator is
 * {@code equals}. The pre-GA form {@code {"claim","condition":"equals","value"}} is accepted too.
 */
public final class ReleasePolicy {
    private static final Pattern VERSION = Pattern.compile("1\\.0(\\.\\d+)?");
    private static final Set<String> UNSUPPORTED_OPERATORS = Set.of("notEquals", "less", "lessOrEquals", "greater",
            "greaterOrEquals", "exists");

    private final List<Authority> authorities;

    private ReleasePolicy(List<Authority> authorities) {
        this.authorities = authorities;
    }

    private record Authority(String url, Condition condition) {
    }

    /** A claim comparison the token did not satisfy: what the claim is (null when missing) and what would do. */
    private record Unmet(String claim, Object actual, Object expected) {
    }

    private sealed interface Condition permits ClaimEquals, AllOf, AnyOf {
        /** Empty when the condition holds; otherwise the comparisons any one of which would have made it hold. */
        List<Unmet> unmet(Map<String, Object> claims);
    }

    private record ClaimEquals(String claim, Object expected) implements Condition {
        @Override
        public List<Unmet> unmet(Map<String, Object> claims) {
            Object actual = lookup(claims, claim);
            return equalsClaim(actual, expected) ? List.of() : List.of(new Unmet(claim, actual, expected));
        }
    }

    private record AllOf(List<Condition> conditions) implements Condition {
        @Override
        public List<Unmet> unmet(Map<String, Object> claims) {
            for (Condition condition : conditions) {
                List<Unmet> unmet = condition.unmet(claims);
                if (!unmet.isEmpty()) {
                    return unmet;
                }
            }
            return List.of();
        }
    }

    private record AnyOf(List<Condition> conditions) implements Condition {
        @Override
        public List<Unmet> unmet(Map<String, Object> claims) {
            List<Unmet> all = new ArrayList<>();
            for (Condition condition : conditions) {
                List<Unmet> unmet = condition.unmet(claims);
                if (unmet.isEmpty()) {
                    return List.of();
                }
                all.addAll(unmet);
            }
            return all;
        }
    }

    /** Parses and validates a policy; 400 BadParameter naming the offending member otherwise. */
    public static ReleasePolicy parse(byte[] policyJson) {
        JsonNode root;
        try {
            root = policyJson == null ? null : Json.MAPPER.readTree(policyJson);
        } catch (IOException e) {
            throw invalid("it is not valid JSON");
        }
        if (root == null || !root.isObject()) {
            throw invalid("it must be a JSON object with 'version' and 'anyOf'");
        }
        onlyMembers(root, "the policy", Set.of("version", "anyOf"));
        JsonNode version = root.get("version");
        if (version == null || !version.isTextual() || !VERSION.matcher(version.asText()).matches()) {
            throw invalid("'version' must be \"1.0.0\"" + (version == null ? " (it is missing)"
                    : " (it is " + version + ")"));
        }
        List<Authority> authorities = new ArrayList<>();
        List<JsonNode> entries = nonEmptyArray(root, "anyOf", "the policy");
        for (int i = 0; i < entries.size(); i++) {
            authorities.add(authority(entries.get(i), "anyOf[" + i + "]"));
        }
        return new ReleasePolicy(List.copyOf(authorities));
    }

    /** The authorities (attestation issuers) the policy names, as written. */
    public List<String> authorities() {
        return authorities.stream().map(Authority::url).toList();
    }

    /**
     * Empty when a token from {@code issuer} with these claims may have the key released; otherwise why not.
     * Authorities match the issuer ignoring one trailing "/"; dotted claim names walk nested objects; a missing claim
     * makes its condition false.
     */
    public Optional<String> evaluate(String issuer, Map<String, Object> claims) {
        if (issuer == null || issuer.isBlank()) {
            return Optional.of("the attestation token has no issuer (iss); the release policy names "
                    + String.join(", ", authorities()));
        }
        String failure = null;
        for (Authority authority : authorities) {
            if (!withoutTrailingSlash(authority.url).equals(withoutTrailingSlash(issuer))) {
                continue;
            }
            List<Unmet> unmet = authority.condition.unmet(claims == null ? Map.of() : claims);
            if (unmet.isEmpty()) {
                return Optional.empty();
            }
            if (failure == null) {
                failure = describe(authority.url, unmet);
            }
        }
        return Optional.of(failure != null ? failure : "no authority in the release policy matches the token issuer "
                + issuer + " (the policy names " + String.join(", ", authorities()) + ")");
    }

    /**
     * The policy {@code az keyvault key create --default-cvm-policy} applies, for one attestation authority: a
     * compliant confidential VM attested as SEV-SNP or TDX.
     */
    public static byte[] defaultCvmPolicy(String attestationAuthority) {
        ObjectNode policy = Json.object().put("version", "1.0.0");
        ObjectNode authority = policy.putArray("anyOf").addObject()
                .put("authority", withoutTrailingSlash(attestationAuthority) + "/");
        ArrayNode allOf = authority.putArray("allOf");
        allOf.addObject().put("claim", "x-ms-compliance-status").put("equals", "azure-compliant-cvm");
        ArrayNode types = allOf.addObject().putArray("anyOf");
        types.addObject().put("claim", "x-ms-attestation-type").put("equals", "sevsnpvm");
        types.addObject().put("claim", "x-ms-attestation-type").put("equals", "tdxvm");
        try {
            return Json.MAPPER.writeValueAsBytes(policy);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write the default CVM policy", e);
        }
    }

    private static Authority authority(JsonNode node, String path) {
        if (!node.isObject()) {
            throw invalid(path + " must be an object with 'authority' and one of 'allOf' / 'anyOf'");
        }
        onlyMembers(node, path, Set.of("authority", "allOf", "anyOf"));
        JsonNode url = node.get("authority");
        if (url == null || !url.isTextual() || !isHttpUrl(url.asText())) {
            throw invalid(path + ".authority must be the https URL of an attestation service"
                    + (url == null ? " (it is missing)" : " (it is " + url + ")"));
        }
        return new Authority(url.asText(), group(node, path));
    }

    /** The node's single allOf / anyOf. */
    private static Condition group(JsonNode node, String path) {
        boolean all = node.has("allOf");
        if (all == node.has("anyOf")) {
            throw invalid(path + " must have exactly one of 'allOf' and 'anyOf'");
        }
        String member = all ? "allOf" : "anyOf";
        List<JsonNode> entries = nonEmptyArray(node, member, path);
        List<Condition> conditions = new ArrayList<>();
        for (int i = 0; i < entries.size(); i++) {
            conditions.add(condition(entries.get(i), path + "." + member + "[" + i + "]"));
        }
        return all ? new AllOf(List.copyOf(conditions)) : new AnyOf(List.copyOf(conditions));
    }

    private static Condition condition(JsonNode node, String path) {
        if (!node.isObject()) {
            throw invalid(path + " must be an object: a claim condition, or an 'allOf' / 'anyOf'");
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (UNSUPPORTED_OPERATORS.contains(name)) {
                throw invalid(path + " uses '" + name + "'; the only operator Key Vault supports is 'equals'");
            }
        }
        if (!node.has("claim")) {
            onlyMembers(node, path, Set.of("allOf", "anyOf"));
            return group(node, path);
        }
        JsonNode claim = node.get("claim");
        if (!claim.isTextual() || claim.asText().isBlank()) {
            throw invalid(path + ".claim must be a claim name such as \"x-ms-attestation-type\"");
        }
        if (node.has("condition")) { // the pre-GA form
            onlyMembers(node, path, Set.of("claim", "condition", "value"));
            if (!"equals".equalsIgnoreCase(node.get("condition").asText())) {
                throw invalid(path + " uses condition " + node.get("condition")
                        + "; the only operator Key Vault supports is 'equals'");
            }
            return new ClaimEquals(claim.asText(), scalar(node.get("value"), path + ".value"));
        }
        onlyMembers(node, path, Set.of("claim", "equals"));
        return new ClaimEquals(claim.asText(), scalar(node.get("equals"), path + ".equals"));
    }

    private static Object scalar(JsonNode node, String path) {
        if (node == null) {
            throw invalid(path + " is missing; give the value the claim must equal");
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isNumber()) {
            return node.decimalValue();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        throw invalid(path + " must be a string, a number or true/false (it is " + node + ")");
    }

    private static List<JsonNode> nonEmptyArray(JsonNode node, String member, String path) {
        JsonNode array = node.get(member);
        if (array == null || !array.isArray() || array.isEmpty()) {
            throw invalid(path + " needs a non-empty array '" + member + "'");
        }
        List<JsonNode> entries = new ArrayList<>();
        array.forEach(entries::add);
        return entries;
    }

    private static void onlyMembers(JsonNode node, String path, Set<String> allowed) {
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                throw invalid(path + " has an unexpected member '" + name + "' (allowed here: "
                        + allowed.stream().sorted().collect(Collectors.joining(", ")) + ")");
            }
        }
    }

    private static boolean isHttpUrl(String text) {
        try {
            URI uri = new URI(text);
            return ("https".equalsIgnoreCase(uri.getScheme()) || "http".equalsIgnoreCase(uri.getScheme()))
                    && uri.getHost() != null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    private static ArmException invalid(String reason) {
        return CryptoErrors.badParameter("The release policy is not valid: " + reason + ".");
    }

    private static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** Walks a dotted claim name through nested objects; null when any step is missing. */
    private static Object lookup(Map<String, Object> claims, String claim) {
        Object current = claims;
        for (String step : claim.split("\\.", -1)) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(step);
        }
        return current;
    }

    /** Scalars compare by value; across types (true vs "true", 1 vs "1") by their JSON text. */
    private static boolean equalsClaim(Object actual, Object expected) {
        if (actual == null || actual instanceof Map || actual instanceof Iterable || actual.getClass().isArray()) {
            return false;
        }
        if (actual instanceof Number number && expected instanceof BigDecimal decimal) {
            try {
                return new BigDecimal(number.toString()).compareTo(decimal) == 0;
            } catch (NumberFormatException e) {
                return false; // NaN or infinity
            }
        }
        return text(actual).equals(text(expected));
    }

    private static String text(Object value) {
        return value instanceof BigDecimal decimal ? decimal.toPlainString() : String.valueOf(value);
    }

    /** "claim 'x' is 'azurevm'; the policy of authority U requires 'sevsnpvm' or 'tdxvm'", or a multi-claim form. */
    private static String describe(String authority, List<Unmet> unmet) {
        Map<String, List<Unmet>> byClaim = new LinkedHashMap<>();
        unmet.forEach(u -> byClaim.computeIfAbsent(u.claim(), c -> new ArrayList<>()).add(u));
        if (byClaim.size() == 1) {
            Unmet first = unmet.get(0);
            return "claim '" + first.claim() + "' " + actualText(first.actual()) + "; the policy of authority "
                    + authority + " requires " + expectedText(unmet);
        }
        return "the policy of authority " + authority + " requires " + byClaim.values().stream()
                .map(group -> "claim '" + group.get(0).claim() + "' to be " + expectedText(group) + " (it "
                        + actualText(group.get(0).actual()) + ")")
                .collect(Collectors.joining(" or "));
    }

    private static String actualText(Object actual) {
        if (actual == null) {
            return "is missing from the attestation token";
        }
        if (actual instanceof Map) {
            return "is an object";
        }
        if (actual instanceof Iterable || actual.getClass().isArray()) {
            return "is a list";
        }
        return "is " + quoted(actual);
    }

    private static String expectedText(List<Unmet> unmet) {
        return unmet.stream().map(u -> quoted(u.expected())).distinct().collect(Collectors.joining(" or "));
    }

    private static String quoted(Object value) {
        return value instanceof String ? "'" + value + "'" : text(value);
    }
}
