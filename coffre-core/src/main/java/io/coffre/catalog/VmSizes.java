package io.coffre.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Azure VM sizes Coffre can place, read from the shipped {@code vm-sizes.json}: family, generation, the
 * confidential-computing technology (AMD SEV-SNP, Intel TDX or none), vCPUs, memory and data-disk limit, and the
 * regions where each family can be placed.
 */
public final class VmSizes {
    private static final String RESOURCE = "vm-sizes.json";
    private static final int CLOSE_MATCHES = 5;
    private static final VmSizes BUILT_IN = load();

    /** The hardware isolation a size offers; {@link #NONE} cannot host a {@code ConfidentialVM}. */
    public enum ConfidentialTechnology {
        AMD_SEV_SNP, INTEL_TDX, NONE
    }

    /** @param generation {@code v5}, {@code v6} ... as the size name ends */
    public record VmSize(String name, String family, String generation, ConfidentialTechnology confidentialTechnology,
                         int vCpus, int memoryGiB, int maxDataDisks) {
        public boolean confidentialCapable() {
            return confidentialTechnology != ConfidentialTechnology.NONE;
        }
    }

    private final Map<String, VmSize> byName;
    /** Family name to the normalized names of the regions where its sizes can be placed, sorted. */
    private final Map<String, Set<String>> placement;

    private VmSizes(Map<String, VmSize> byName, Map<String, Set<String>> placement) {
        this.byName = Collections.unmodifiableMap(byName);
        this.placement = Collections.unmodifiableMap(placement);
    }

    public static VmSizes builtIn() {
        return BUILT_IN;
    }

    /** Size names compare case-insensitively, as ARM compares {@code hardwareProfile.vmSize}. */
    public Optional<VmSize> find(String name) {
        return name == null ? Optional.empty() : Optional.ofNullable(byName.get(key(name)));
    }

    /** @throws io.coffre.arm.ArmException 400 {@code SkuNotAvailable} naming the closest known sizes */
    public VmSize require(String name) {
        return find(name).orElseThrow(() -> unknown(name).toException());
    }

    /** The refusal for a size the catalog does not hold, with the known sizes closest to the name. */
    public Refusal unknown(String name) {
        return new Refusal(400, "SkuNotAvailable", "The requested VM size '" + name + "' is not available. Close"
                + " matches: " + String.join(", ", closeMatches(name)) + ". Pick one of these sizes.");
    }

    public Collection<VmSize> all() {
        return byName.values();
    }

    /** The regions where {@code size} can be placed, sorted, as {@link Regions#normalize} spells them. */
    public Set<String> regionsOf(VmSize size) {
        return placement.get(size.family());
    }

    /** The sizes that can be placed in {@code location}, in catalog order; none for an unknown region. */
    public List<VmSize> offeredIn(String location) {
        String region = Regions.normalize(location);
        return byName.values().stream().filter(s -> regionsOf(s).contains(region)).toList();
    }

    /**
     * Checks that {@code size} can be placed in {@code location} for a VM of the given kind.
     *
     * @throws io.coffre.arm.ArmException 409 {@code SkuNotAvailable} naming where the size can go and which sizes
     *                                    {@code location} offers instead
     */
    public void requireOffered(VmSize size, String location, boolean confidential) {
        String region = Regions.normalize(location);
        if (regionsOf(size).contains(region)) {
            return;
        }
        List<String> here = offeredIn(region).stream().filter(s -> !confidential || s.confidentialCapable())
                .map(VmSize::name).toList();
        String instead = here.isEmpty()
                ? (confidential ? "Creation of VMs and Virtual Machine Scale Sets with ConfidentialVM security type "
                        + "is not supported in this region: it has no confidential size. " : "")
                : "Sizes available in '" + region + "'" + (confidential ? " for confidential VMs" : "") + ": "
                        + String.join(", ", here) + ". ";
        throw new Refusal(409, "SkuNotAvailable", "The requested VM size '" + size.name() + "' is not available in "
                + "location '" + region + "'. " + instead + "Sizes of family " + size.family() + " can be placed in: "
                + String.join(", ", regionsOf(size)) + ". Pick another size or location.").toException();
    }

    /** Known sizes ordered by edit distance to {@code name}, nearest first. */
    List<String> closeMatches(String name) {
        String wanted = key(name == null ? "" : name);
        return byName.values().stream()
                .sorted(Comparator.comparingInt((VmSize s) -> editDistance(wanted, key(s.name())))
                        .thenComparing(VmSize::name))
                .limit(CLOSE_MATCHES).map(VmSize::name).toList();
    }

    private static int editDistance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /** Reads {@code placement}; a family without one, or a region {@link Regions} does not know, is a broken file. */
    private static Map<String, Set<String>> placement(JsonNode node, Collection<VmSize> sizes) {
        Regions regions = Regions.builtIn();
        Map<String, Set<String>> placement = new LinkedHashMap<>();
        for (VmSize size : sizes) {
            JsonNode listed = node.path(size.family());
            Set<String> where = new TreeSet<>();
            if (listed.isTextual() && listed.asText().equals("all")) {
                regions.all().forEach(r -> where.add(Regions.normalize(r.name())));
            } else if (listed.isArray() && !listed.isEmpty()) {
                for (JsonNode region : listed) {
                    where.add(regions.find(region.asText()).map(r -> Regions.normalize(r.name()))
                            .orElseThrow(() -> new IllegalStateException(RESOURCE + " places family "
                                    + size.family() + " in the unknown region '" + region.asText() + "'")));
                }
            } else {
                throw new IllegalStateException(RESOURCE + " gives no placement for family " + size.family());
            }
            placement.put(size.family(), Collections.unmodifiableSet(where));
        }
        return placement;
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    private static VmSizes load() {
        try (InputStream in = VmSizes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the VM size catalog " + RESOURCE + " is missing from the classpath");
            }
            JsonNode root = Json.MAPPER.readTree(in);
            Map<String, VmSize> sizes = new LinkedHashMap<>();
            for (JsonNode s : root.path("sizes")) {
                VmSize size = new VmSize(s.path("name").asText(), s.path("family").asText(),
                        s.path("generation").asText(),
                        ConfidentialTechnology.valueOf(s.path("confidentialTechnology").asText()),
                        s.path("vCpus").asInt(), s.path("memoryGiB").asInt(), s.path("maxDataDisks").asInt());
                sizes.put(key(size.name()), size);
            }
            return new VmSizes(sizes, placement(root.path("placement"), sizes.values()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the VM size catalog " + RESOURCE, e);
        }
    }
}
