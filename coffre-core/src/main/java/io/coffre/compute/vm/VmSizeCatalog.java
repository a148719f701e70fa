package io.coffre.compute.vm;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceManager;
import io.coffre.catalog.Regions;
import io.coffre.catalog.VmSizes;
import io.coffre.catalog.VmSizes.VmSize;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The VM sizes a subscription can place, per region, in the two shapes Azure lists them: {@code
 * locations/{location}/vmSizes} ({@code az vm list-sizes}) and {@code Microsoft.Compute/skus} ({@code az vm
 * list-skus}), both read from the shipped catalog ({@link VmSizes}).
 */
public final class VmSizeCatalog {
    static final String SIZES_ACTION = "Microsoft.Compute/locations/vmSizes/read";
    static final String SKUS_ACTION = "Microsoft.Compute/skus/read";
    /** Azure's largest OS disk, 1,023 GiB, the same for every size. */
    private static final int OS_DISK_MB = 1_047_552;
    private static final Pattern LOCATION_FILTER = Pattern.compile("\\s*location\\s+eq\\s+'([^']*)'\\s*",
            Pattern.CASE_INSENSITIVE);

    private final ResourceManager resourceManager;
    private final AccessControl access;
    private final VmSizes sizes = VmSizes.builtIn();

    public VmSizeCatalog(ResourceManager resourceManager, AccessControl access) {
        this.resourceManager = resourceManager;
        this.access = access;
    }

    /**
     * The {@code VirtualMachineSize} entries of the sizes {@code location} offers.
     *
     * @throws ArmException 400 {@code LocationNotAvailableForResourceType} for an unknown region
     */
    public List<ObjectNode> sizes(Principal caller, String subscriptionId, String location) {
        authorize(caller, subscriptionId, SIZES_ACTION);
        String region = Regions.builtIn().require(location, "Microsoft.Compute/locations/vmSizes").name();
        return sizes.offeredIn(region).stream().map(VmSizeCatalog::vmSize).toList();
    }

    /**
     * The {@code ResourceSku} entries of every size, one per region it can be placed in; {@code filter} may narrow
     * them to one region ({@code location eq 'uaenorth'}), the only filter Azure's SKU listing takes.
     *
     * @throws ArmException 400 {@code InvalidFilter} for any other filter
     */
    public List<ObjectNode> skus(Principal caller, String subscriptionId, String filter) {
        authorize(caller, subscriptionId, SKUS_ACTION);
        String only = null;
        if (filter != null && !filter.isBlank()) {
            Matcher m = LOCATION_FILTER.matcher(filter);
            if (!m.matches()) {
                throw ArmException.badRequest("InvalidFilter", "The filter '" + filter + "' is not supported; the "
                        + "SKU listing takes only $filter=location eq '<region>', e.g. location eq 'uaenorth'.");
            }
            only = Regions.normalize(m.group(1));
        }
        List<ObjectNode> skus = new ArrayList<>();
        for (VmSize size : sizes.all()) {
            for (String region : sizes.regionsOf(size)) {
                if (only == null || only.equals(region)) {
                    skus.add(sku(size, region));
                }
            }
        }
        return skus;
    }

    private void authorize(Principal caller, String subscriptionId, String action) {
        ResourceId scope = ResourceId.subscription(subscriptionId);
        resourceManager.requireScope(scope);
        access.require(caller, scope.toString(), action, false);
    }

    /**
     * Coffre's VMs have no local temporary disk, so {@code resourceDiskSizeInMB} is 0 even for the {@code d} sizes
     * that have one on Azure.
     */
    static ObjectNode vmSize(VmSize size) {
        return Json.object().put("name", size.name()).put("numberOfCores", size.vCpus())
                .put("osDiskSizeInMB", OS_DISK_MB).put("resourceDiskSizeInMB", 0)
                .put("memoryInMB", size.memoryGiB() * 1024).put("maxDataDiskCount", size.maxDataDisks());
    }

    private static ObjectNode sku(VmSize size, String region) {
        ObjectNode sku = Json.object().put("resourceType", "virtualMachines").put("name", size.name())
                .put("tier", "Standard").put("size", size.name().substring("Standard_".length()))
                .put("family", skuFamily(size));
        sku.putArray("locations").add(region);
        sku.putArray("locationInfo").addObject().put("location", region).putArray("zones");
        ArrayNode capabilities = sku.putArray("capabilities");
        capability(capabilities, "vCPUs", Integer.toString(size.vCpus()));
        capability(capabilities, "MemoryGB", Integer.toString(size.memoryGiB()));
        capability(capabilities, "MaxDataDiskCount", Integer.toString(size.maxDataDisks()));
        capability(capabilities, "OSVhdSizeMB", Integer.toString(OS_DISK_MB));
        capability(capabilities, "PremiumIO", "True");
        // confidential sizes boot UEFI guests only (generation 2)
        capability(capabilities, "HyperVGenerations", size.confidentialCapable() ? "V2" : "V1,V2");
        switch (size.confidentialTechnology()) {
            case AMD_SEV_SNP -> capability(capabilities, "ConfidentialComputingType", "SNP");
            case INTEL_TDX -> capability(capabilities, "ConfidentialComputingType", "TDX");
            case NONE -> { }
        }
        sku.putArray("restrictions");
        return sku;
    }

    /** Azure's SKU family name: {@code DCasv6} is {@code standardDCASv6Family}. */
    private static String skuFamily(VmSize size) {
        String family = size.family();
        String series = family.substring(0, family.length() - size.generation().length());
        return "standard" + series.toUpperCase(Locale.ROOT) + size.generation() + "Family";
    }

    private static void capability(ArrayNode capabilities, String name, String value) {
        capabilities.addObject().put("name", name).put("value", value);
    }
}
