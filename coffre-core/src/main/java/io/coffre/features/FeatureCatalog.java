package io.coffre.features;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** The features Coffre knows, per namespace, with how each is approved; read from a shipped JSON file. */
final class FeatureCatalog {
    private static final String BUILT_IN = "known-features.json";

    record KnownFeature(String namespace, String name, boolean autoApprove, Duration approvalDelay) {
    }

    private final Map<String, KnownFeature> byKey;

    private FeatureCatalog(Map<String, KnownFeature> byKey) {
        this.byKey = byKey;
    }

    static FeatureCatalog builtIn() {
        return load(BUILT_IN);
    }

    /** @param resource a file next to this class */
    static FeatureCatalog load(String resource) {
        try (InputStream in = FeatureCatalog.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the feature catalog " + resource + " is missing from the classpath");
            }
            Map<String, KnownFeature> features = new TreeMap<>();
            for (JsonNode f : Json.MAPPER.readTree(in).path("features")) {
                KnownFeature known = new KnownFeature(f.path("namespace").asText(), f.path("name").asText(),
                        f.path("autoApprove").asBoolean(false), Duration.parse(f.path("approvalDelay").asText("PT0S")));
                features.put(key(known.namespace(), known.name()), known);
            }
            return new FeatureCatalog(features);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the feature catalog " + resource, e);
        }
    }

    /** Namespaces and names compare case-insensitively, as ARM compares them. */
    Optional<KnownFeature> find(String namespace, String name) {
        return Optional.ofNullable(byKey.get(key(namespace, name)));
    }

    /** Ordered by namespace, then name; {@code namespaceOrNull} null for all namespaces. */
    List<KnownFeature> list(String namespaceOrNull) {
        return byKey.values().stream()
                .filter(f -> namespaceOrNull == null || f.namespace().equalsIgnoreCase(namespaceOrNull))
                .sorted(Comparator.comparing(KnownFeature::namespace).thenComparing(KnownFeature::name)).toList();
    }

    private static String key(String namespace, String name) {
        return (namespace + "/" + name).toLowerCase(Locale.ROOT);
    }
}
