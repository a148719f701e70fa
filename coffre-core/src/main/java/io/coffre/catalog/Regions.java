package io.coffre.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The Azure regions Coffre knows, read from the shipped {@code regions.json}: each region's display name, the
 * geography it belongs to (a Key Vault's security domain is its subscription and geography) and its paired region
 * (the target of cross-region restore).
 */
public final class Regions {
    private static final String RESOURCE = "regions.json";
    private static final Regions BUILT_IN = load();

    /** @param pairedRegion null where Azure pairs the region with none */
    public record Region(String name, String displayName, String geography, String pairedRegion) {
    }

    private final Map<String, Region> byName;

    private Regions(Map<String, Region> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    public static Regions builtIn() {
        return BUILT_IN;
    }

    /** ARM accepts {@code uaenorth}, {@code UAE North} and {@code UAENorth} alike. */
    public static String normalize(String location) {
        return location == null ? "" : location.replace(" ", "").toLowerCase(Locale.ROOT);
    }

    public Optional<Region> find(String location) {
        return Optional.ofNullable(byName.get(normalize(location)));
    }

    /**
     * @param resourceType named in the error, e.g. {@code Microsoft.KeyVault/vaults}
     * @throws ArmException 400 {@code LocationNotAvailableForResourceType} listing the valid regions
     */
    public Region require(String location, String resourceType) {
        return find(location).orElseThrow(() -> ArmException.badRequest("LocationNotAvailableForResourceType",
                "The provided location '" + location + "' is not available for resource type '" + resourceType
                        + "'. List of available regions for the resource type is '"
                        + String.join(",", byName.keySet()) + "'."));
    }

    public Collection<Region> all() {
        return byName.values();
    }

    private static Regions load() {
        try (InputStream in = Regions.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the region catalog " + RESOURCE + " is missing from the classpath");
            }
            JsonNode root = Json.MAPPER.readTree(in);
            Map<String, Region> regions = new LinkedHashMap<>();
            for (JsonNode r : root.path("regions")) {
                Region region = new Region(r.path("name").asText(), r.path("displayName").asText(),
                        r.path("geography").asText(), r.hasNonNull("pairedRegion")
                        ? r.path("pairedRegion").asText() : null);
                regions.put(normalize(region.name()), region);
            }
            return new Regions(regions.entrySet().stream().sorted(Map.Entry.comparingByKey()).collect(
                    Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the region catalog " + RESOURCE, e);
        }
    }
}
