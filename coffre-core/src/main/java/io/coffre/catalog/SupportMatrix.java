package io.coffre.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What confidential-VM backup, restore and restore points support, read from a shipped
 * {@code support-matrix-<name>.json}: {@code default} reproduces Azure's (preview) matrix exactly, {@code extended}
 * adds what Coffre offers on top. Callers ask the matrix; none of them names a region or a size. Each check answers
 * empty when allowed, else the {@link Refusal} to send.
 */
public final class SupportMatrix {
    /** The matrices Coffre ships ({@code coffre server --matrix}). */
    public static final List<String> NAMES = List.of("default", "extended");
    private static final String EXTENDED_HINT = " (or start the Coffre server with --matrix extended)";

    /** A subscription feature flag (Microsoft.Features) that blocks confidential-VM backup and restore when registered. */
    public record Feature(String namespace, String name) {
        @Override
        public String toString() {
            return namespace + "/" + name;
        }
    }

    private final String name;
    private final Set<String> regions;
    private final Set<String> sizeGenerations;
    private final Set<String> protectableEncryptionTypes;
    private final Set<String> policyTypes;
    private final boolean crashConsistentMultiDisk;
    private final boolean crossRegionRestore;
    private final Feature blockingFeature;
    private final VmSizes sizes;
    private final Regions regionCatalog;

    private SupportMatrix(String name, JsonNode cvm, VmSizes sizes, Regions regionCatalog) {
        this.name = name;
        this.regions = strings(cvm.path("regions"));
        this.sizeGenerations = strings(cvm.path("sizeGenerations"));
        this.protectableEncryptionTypes = strings(cvm.path("protectableSecurityEncryptionTypes"));
        this.policyTypes = strings(cvm.path("policyTypes"));
        this.crashConsistentMultiDisk = cvm.path("crashConsistentMultiDisk").asBoolean(false);
        this.crossRegionRestore = cvm.path("crossRegionRestore").asBoolean(false);
        JsonNode blocking = cvm.path("blockingFeature");
        this.blockingFeature = new Feature(blocking.path("namespace").asText(), blocking.path("name").asText());
        this.sizes = sizes;
        this.regionCatalog = regionCatalog;
        for (String region : regions) {
            regionCatalog.find(region).orElseThrow(() -> new IllegalStateException("support matrix '" + name
                    + "' names region '" + region + "', which the region catalog does not hold"));
        }
    }

    /**
     * @param name {@code default} or {@code extended}
     * @throws IllegalArgumentException for any other name, naming the shipped ones
     */
    public static SupportMatrix load(String name) {
        if (name == null || !NAMES.contains(name)) {
            throw new IllegalArgumentException("Unknown support matrix '" + name + "'; choose one of "
                    + String.join(", ", NAMES) + ".");
        }
        String resource = "support-matrix-" + name + ".json";
        try (InputStream in = SupportMatrix.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the support matrix " + resource + " is missing from the classpath");
            }
            return new SupportMatrix(name, Json.MAPPER.readTree(in).path("confidentialVm"), VmSizes.builtIn(),
                    Regions.builtIn());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the support matrix " + resource, e);
        }
    }

    public String name() {
        return name;
    }

    /** The regions where confidential VMs can be backed up and get restore points, e.g. {@code uaenorth}. */
    public Set<String> regions() {
        return regions;
    }

    /** Whether a restore point of a confidential VM may freeze all its disks at one instant (crash-consistent). */
    public boolean crashConsistentMultiDisk() {
        return crashConsistentMultiDisk;
    }

    /** Whether a confidential VM's backup may be restored in its region's paired region. */
    public boolean crossRegionRestore() {
        return crossRegionRestore;
    }

    /** The subscription flag (the "CVM v2 opt-out") under which backup and restore are refused. */
    public Feature blockingFeature() {
        return blockingFeature;
    }

    /**
     * Whether a confidential VM can be protected (configure backup, back up now).
     *
     * @param securityEncryptionType the OS disk's {@code securityEncryptionType}
     * @param v2OptOut               whether the subscription has {@link #blockingFeature()} registered
     */
    public Optional<Refusal> checkBackup(String region, String size, String securityEncryptionType, boolean v2OptOut) {
        if (v2OptOut) {
            return Optional.of(optOut("Backup"));
        }
        if (!supportsRegion(region)) {
            return refuse("UserErrorConfidentialVmRegionNotSupported", "Backup of confidential VMs is not supported"
                    + " in region '" + region + "'. Supported regions: " + String.join(", ", regions)
                    + ". Protect a confidential VM in one of them" + EXTENDED_HINT + ".");
        }
        Optional<Refusal> sizeRefusal = checkSize(size, "UserErrorConfidentialVmSizeNotSupported",
                "Backup of confidential VMs");
        if (sizeRefusal.isPresent()) {
            return sizeRefusal;
        }
        if (!protectableEncryptionTypes.contains(securityEncryptionType)) {
            return refuse("UserErrorConfidentialVmOsDiskEncryptionRequired", "Backup of confidential VMs requires"
                    + " confidential OS disk encryption (securityEncryptionType " + quoted(protectableEncryptionTypes)
                    + "); this VM's OS disk has '" + securityEncryptionType + "'. Create the VM with"
                    + " securityEncryptionType " + quoted(protectableEncryptionTypes) + " to protect it.");
        }
        return Optional.empty();
    }

    /** Whether a backup policy of this type may protect a confidential VM ({@code V1} Standard, {@code V2} Enhanced). */
    public Optional<Refusal> checkPolicy(String policyType) {
        if (policyTypes.contains(policyType)) {
            return Optional.empty();
        }
        return refuse("UserErrorConfidentialVmEnhancedPolicyRequired", "Confidential VMs can be protected only with"
                + " an Enhanced policy (policyType " + quoted(policyTypes) + "); the policy has policyType '"
                + policyType + "'. Create an Enhanced policy and protect the VM with it.");
    }

    /**
     * Whether a restore point of a confidential VM can be created.
     *
     * @param crashConsistent the request freezes all disks at one instant instead of asking the guest (application
     *                        consistency)
     */
    public Optional<Refusal> checkRestorePoint(String region, String size, boolean crashConsistent) {
        if (!supportsRegion(region)) {
            return refuse("RestorePointsNotSupportedInRegion", "This region does not support creation of Restore"
                    + " Points of a Virtual Machine with 'ConfidentialVM' security type. Supported regions: "
                    + String.join(", ", regions) + EXTENDED_HINT + ".");
        }
        Optional<Refusal> sizeRefusal = checkSize(size, "RestorePointsNotSupportedForVmSize",
                "Restore Points of a Virtual Machine with 'ConfidentialVM' security type");
        if (sizeRefusal.isPresent()) {
            return sizeRefusal;
        }
        if (crashConsistent && !crashConsistentMultiDisk) {
            return refuse("CrashConsistentRestorePointsNotSupported", "Crash-consistent Restore Points of a Virtual"
                    + " Machine with 'ConfidentialVM' security type are not supported. Create an"
                    + " application-consistent restore point" + EXTENDED_HINT + ".");
        }
        return Optional.empty();
    }

    /**
     * Whether a confidential VM backed up in {@code sourceRegion} can be restored into {@code targetRegion}: the same
     * region always, its paired region only with cross-region restore.
     */
    public Optional<Refusal> checkRestore(String sourceRegion, String targetRegion, boolean v2OptOut) {
        if (v2OptOut) {
            return Optional.of(optOut("Restore"));
        }
        String source = Regions.normalize(sourceRegion);
        String target = Regions.normalize(targetRegion);
        if (source.equals(target)) {
            return Optional.empty();
        }
        if (!crossRegionRestore) {
            return refuse("UserErrorCrossRegionRestoreNotSupported", "Cross Region Restore is not supported for"
                    + " confidential VMs: v6 confidential VM sizes are not available in the paired regions. Restore"
                    + " into '" + source + "', the region of the backup" + EXTENDED_HINT + ".");
        }
        String paired = regionCatalog.find(source).map(Regions.Region::pairedRegion).filter(this::supportsRegion)
                .orElse(null);
        if (paired == null) {
            return refuse("UserErrorCrossRegionRestoreNotSupported", "Cross Region Restore of a confidential VM"
                    + " backed up in '" + source + "' is not possible: its paired region does not support"
                    + " confidential VMs. Restore into '" + source + "'.");
        }
        if (!target.equals(paired)) {
            return refuse("UserErrorCrossRegionRestoreNotSupported", "Cross Region Restore of a confidential VM"
                    + " backed up in '" + source + "' goes only to its paired region '" + paired + "', not to '"
                    + target + "'. Restore into '" + source + "' or '" + paired + "'.");
        }
        return Optional.empty();
    }

    private Optional<Refusal> checkSize(String size, String code, String what) {
        Optional<VmSizes.VmSize> known = sizes.find(size);
        if (known.isEmpty()) {
            return Optional.of(sizes.unknown(size));
        }
        VmSizes.VmSize s = known.get();
        if (s.confidentialCapable() && sizeGenerations.contains(s.generation())) {
            return Optional.empty();
        }
        return refuse(code, what + " is supported only for " + String.join(", ", sizeGenerations)
                + " confidential VM sizes, e.g. " + String.join(", ", examples()) + "; '" + s.name() + "' is a "
                + s.generation() + (s.confidentialCapable() ? " size" : " size without confidential computing")
                + ". Resize the VM to a supported size.");
    }

    private List<String> examples() {
        List<String> examples = new ArrayList<>();
        for (VmSizes.VmSize s : sizes.all()) {
            if (s.confidentialCapable() && sizeGenerations.contains(s.generation()) && examples.size() < 3) {
                examples.add(s.name());
            }
        }
        return examples;
    }

    private boolean supportsRegion(String region) {
        return regions.contains(Regions.normalize(region));
    }

    private Refusal optOut(String operation) {
        return new Refusal(400, "UserErrorConfidentialVmV2OptOut", operation + " of confidential VMs fails while"
                + " the subscription has the feature '" + blockingFeature + "' (CVM v2 opt-out) registered."
                + " Unregister it: coffre feature unregister --namespace " + blockingFeature.namespace() + " --name "
                + blockingFeature.name() + ".");
    }

    private static Optional<Refusal> refuse(String code, String message) {
        return Optional.of(new Refusal(400, code, message));
    }

    private static String quoted(Set<String> values) {
        return "'" + String.join("' or '", values) + "'";
    }

    private static Set<String> strings(JsonNode array) {
        Set<String> values = new LinkedHashSet<>();
        array.forEach(v -> values.add(v.asText()));
        return Collections.unmodifiableSet(values);
    }
}
