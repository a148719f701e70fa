package io.coffre.compute.vm;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.attestation.AttestationService;
import io.coffre.catalog.Regions;
import io.coffre.catalog.VmSizes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A VM's PUT body, checked against the catalog and the confidential-VM rules (reference/azure-cvm-backup-facts.md
 * §2) before anything is written. Checks that need stored state (disks to attach, the DES) are done by the service.
 */
record VmSpec(String location, VmSizes.VmSize size, String securityType, String securityEncryptionType,
              String diskEncryptionSetId, DiskSpec osDisk, List<DiskSpec> dataDisks) {
    static final String STANDARD = "Standard";
    static final String TRUSTED_LAUNCH = "TrustedLaunch";
    static final String CONFIDENTIAL_VM = "ConfidentialVM";
    static final String DISK_WITH_VM_GUEST_STATE = "DiskWithVMGuestState";
    static final String VM_GUEST_STATE_ONLY = "VMGuestStateOnly";
    static final String NON_PERSISTED_TPM = "NonPersistedTPM";
    /** Coffre has no images: an OS disk created FromImage is an empty disk of this size unless diskSizeGB says. */
    static final int DEFAULT_OS_DISK_GB = 30;

    private static final Set<String> SECURITY_TYPES = Set.of(STANDARD, TRUSTED_LAUNCH, CONFIDENTIAL_VM);
    private static final Set<String> ENCRYPTION_TYPES = Set.of(DISK_WITH_VM_GUEST_STATE, VM_GUEST_STATE_ONLY,
            NON_PERSISTED_TPM);

    /**
     * One disk of the body.
     *
     * @param createOption  {@code FromImage} or {@code Empty} (a new disk) or {@code Attach} (an existing disk)
     * @param attachId      the disk to attach ({@code managedDisk.id}), for Attach
     * @param atRestDesId   {@code managedDisk.diskEncryptionSet.id} of a data disk (server-side encryption with a
     *                      customer key), or null
     */
    record DiskSpec(Integer lun, String name, String createOption, Integer sizeGb, String attachId,
                    String deleteOption, String storageAccountType, String atRestDesId) {
        boolean creates() {
            return !createOption.equals("Attach");
        }
    }

    boolean confidential() {
        return securityType.equals(CONFIDENTIAL_VM);
    }

    /** The confidential OS disk has a persisted guest state (VMGS). */
    boolean hasGuestState() {
        return confidential() && !securityEncryptionType.equals(NON_PERSISTED_TPM);
    }

    /** The attestation type the key release asks for: the size's hardware. */
    String attestationType() {
        return attestationType(size);
    }

    static String attestationType(VmSizes.VmSize size) {
        return size.confidentialTechnology() == VmSizes.ConfidentialTechnology.INTEL_TDX
                ? AttestationService.TDX_VM : AttestationService.SEV_SNP_VM;
    }

    /** The OS disk's {@code securityProfile.securityType} as a disk resource shows it, or null. */
    String osDiskSecurityType() {
        if (securityType.equals(TRUSTED_LAUNCH)) {
            return TRUSTED_LAUNCH;
        }
        if (!confidential()) {
            return null;
        }
        return switch (securityEncryptionType) {
            case DISK_WITH_VM_GUEST_STATE -> diskEncryptionSetId != null
                    ? "ConfidentialVM_DiskEncryptedWithCustomerKey" : "ConfidentialVM_DiskEncryptedWithPlatformKey";
            case VM_GUEST_STATE_ONLY -> "ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey";
            default -> "ConfidentialVM_NonPersistedTPM";
        };
    }

    static VmSpec parse(JsonNode body, String vmName) {
        if (!body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        String location = body.path("location").asText("");
        if (location.isEmpty()) {
            throw ArmException.badRequest("LocationRequired", "The location property is required for this "
                    + "definition: give the region of the virtual machine, e.g. \"uaenorth\".");
        }
        location = Regions.builtIn().require(location, VirtualMachines.RESOURCE_TYPE).name();
        JsonNode properties = body.path("properties");
        String sizeName = properties.path("hardwareProfile").path("vmSize").asText(null);
        if (sizeName == null) {
            throw invalid("hardwareProfile.vmSize", "is required: the VM size, e.g. Standard_DC2as_v6");
        }
        VmSizes.VmSize size = VmSizes.builtIn().require(sizeName);

        JsonNode security = properties.path("securityProfile");
        String securityType = security.path("securityType").asText(STANDARD);
        if (!SECURITY_TYPES.contains(securityType)) {
            throw invalid("securityProfile.securityType", "'" + securityType + "' is not valid; use Standard, "
                    + "TrustedLaunch or ConfidentialVM");
        }
        JsonNode uefi = security.path("uefiSettings");
        boolean secureBoot = uefi.path("secureBootEnabled").asBoolean(false);
        boolean vTpm = uefi.path("vTpmEnabled").asBoolean(false);
        if (securityType.equals(STANDARD) && (secureBoot || vTpm)) {
            throw invalid("securityProfile.uefiSettings", "secureBootEnabled and vTpmEnabled need securityType "
                    + "TrustedLaunch or ConfidentialVM; set securityProfile.securityType or remove uefiSettings");
        }
        requireConfidentialCapable(size, securityType.equals(CONFIDENTIAL_VM));
        if (securityType.equals(CONFIDENTIAL_VM)) {
            if (!vTpm) {
                throw invalid("securityProfile.uefiSettings.vTpmEnabled", "must be true for a ConfidentialVM: its "
                        + "guest state holds the vTPM that attestation relies on");
            }
        }
        VmSizes.builtIn().requireOffered(size, location, securityType.equals(CONFIDENTIAL_VM));

        JsonNode storage = properties.path("storageProfile");
        if (!storage.path("osDisk").isObject()) {
            throw invalid("storageProfile.osDisk", "is required");
        }
        JsonNode osDisk = storage.path("osDisk");
        JsonNode osSecurity = osDisk.path("managedDisk").path("securityProfile");
        String encryptionType = osSecurity.path("securityEncryptionType").asText(null);
        String desId = osSecurity.path("diskEncryptionSet").path("id").asText(null);
        if (securityType.equals(CONFIDENTIAL_VM)) {
            if (encryptionType == null) {
                throw ArmException.badRequest("InvalidParameter", "Required parameter for Confidential VMs "
                        + "'managedDisk.securityProfile.securityEncryptionType' is missing (in storageProfile.osDisk)."
                        + " Use DiskWithVMGuestState (OS disk and guest state encrypted) or VMGuestStateOnly.");
            }
            if (!ENCRYPTION_TYPES.contains(encryptionType)) {
                throw invalid("storageProfile.osDisk.managedDisk.securityProfile.securityEncryptionType", "'"
                        + encryptionType + "' is not valid; use DiskWithVMGuestState, VMGuestStateOnly or "
                        + "NonPersistedTPM");
            }
            if (desId != null && !encryptionType.equals(DISK_WITH_VM_GUEST_STATE)) {
                throw invalid("storageProfile.osDisk.managedDisk.securityProfile.diskEncryptionSet", "needs "
                        + "securityEncryptionType DiskWithVMGuestState: a customer key encrypts the confidential OS "
                        + "disk, so without it (" + encryptionType + ") the guest state uses the platform key. Set "
                        + "DiskWithVMGuestState or remove the diskEncryptionSet");
            }
        } else if (encryptionType != null || desId != null) {
            throw invalid("storageProfile.osDisk.managedDisk.securityProfile", "applies to confidential VMs only; "
                    + "set securityProfile.securityType to ConfidentialVM or remove it (security type is "
                    + securityType + ")");
        }
        if (desId != null) {
            desId = ResourceId.parse(desId).toString();
        }
        DiskSpec os = disk(osDisk, "storageProfile.osDisk", null, vmName + "_OsDisk_1", true);
        List<DiskSpec> data = new ArrayList<>();
        Set<Integer> luns = new HashSet<>();
        int index = 0;
        for (JsonNode d : storage.path("dataDisks")) {
            String where = "storageProfile.dataDisks[" + index++ + "]";
            int lun = lun(d, where, luns);
            data.add(dataDisk(d, where, lun, vmName));
        }
        checkDataDiskCount(size, data.size());
        return new VmSpec(location, size, securityType, securityType.equals(CONFIDENTIAL_VM) ? encryptionType : null,
                desId, os, List.copyOf(data));
    }

    /** The LUN of a data disk entry, checked and added to {@code luns} (those of the entries before it). */
    static int lun(JsonNode d, String where, Set<Integer> luns) {
        if (!d.path("lun").canConvertToInt() || d.path("lun").asInt() < 0 || d.path("lun").asInt() > 63) {
            throw invalid(where + ".lun", "must be a number from 0 to 63");
        }
        int lun = d.path("lun").asInt();
        if (!luns.add(lun)) {
            throw invalid(where + ".lun", "LUN " + lun + " is used twice; give each data disk its own LUN");
        }
        return lun;
    }

    /** A data disk entry of a VM, new or to attach; its name defaults to {@code {vmName}_disk{lun}}. */
    static DiskSpec dataDisk(JsonNode d, String where, int lun, String vmName) {
        if (d.path("managedDisk").path("securityProfile").has("securityEncryptionType")) {
            throw invalid(where + ".managedDisk.securityProfile.securityEncryptionType", "is allowed on the OS "
                    + "disk only (" + DISK_WITH_VM_GUEST_STATE + " is not allowed on data disks); remove it");
        }
        return disk(d, where, lun, vmName + "_disk" + lun, false);
    }

    /** A confidential VM needs a size with AMD SEV-SNP or Intel TDX hardware. */
    static void requireConfidentialCapable(VmSizes.VmSize size, boolean confidential) {
        if (confidential && !size.confidentialCapable()) {
            throw ArmException.badRequest("BadRequest", "The VM size '" + size.name() + "' does not support "
                    + "security type ConfidentialVM: it has no AMD SEV-SNP or Intel TDX hardware. Use a "
                    + "confidential size, e.g. Standard_DC2as_v6 or Standard_DC2es_v6.");
        }
    }

    static void checkDataDiskCount(VmSizes.VmSize size, int dataDisks) {
        if (dataDisks > size.maxDataDisks()) {
            throw ArmException.conflict("OperationNotAllowed", "The maximum number of data disks allowed to be "
                    + "attached to a VM of size " + size.name() + " is " + size.maxDataDisks() + "; the request has "
                    + dataDisks + ". Use a larger size or fewer disks.");
        }
    }

    private static DiskSpec disk(JsonNode d, String where, Integer lun, String defaultName, boolean os) {
        String option = d.path("createOption").asText("");
        Set<String> options = os ? Set.of("FromImage", "Empty", "Attach") : Set.of("Empty", "Attach");
        String optionKey = options.stream().filter(o -> o.equalsIgnoreCase(option)).findFirst().orElseThrow(() ->
                invalid(where + ".createOption", "'" + option + "' is not supported; use "
                        + String.join(", ", options.stream().sorted().toList())));
        String deleteOption = d.path("deleteOption").asText("Detach");
        if (!deleteOption.equalsIgnoreCase("Delete") && !deleteOption.equalsIgnoreCase("Detach")) {
            throw invalid(where + ".deleteOption", "'" + deleteOption + "' is not valid; use Delete or Detach");
        }
        deleteOption = deleteOption.equalsIgnoreCase("Delete") ? "Delete" : "Detach";
        JsonNode managed = d.path("managedDisk");
        String attachId = managed.path("id").asText(null);
        Integer sizeGb = null;
        if (optionKey.equals("Attach")) {
            if (attachId == null) {
                throw invalid(where + ".managedDisk.id", "is required for createOption Attach: the id of an "
                        + "Unattached disk");
            }
            attachId = ResourceId.parse(attachId).toString();
        } else {
            if (attachId != null) {
                throw invalid(where + ".managedDisk.id", "is only for createOption Attach; remove it to create a "
                        + "new disk");
            }
            JsonNode sizeNode = d.path("diskSizeGB");
            if (sizeNode.isMissingNode() || sizeNode.isNull()) {
                if (optionKey.equals("Empty")) {
                    throw invalid(where + ".diskSizeGB", "is required for createOption Empty");
                }
                sizeGb = DEFAULT_OS_DISK_GB;
            } else if (!sizeNode.canConvertToInt() || sizeNode.asInt() < 1 || sizeNode.asInt() > 32767) {
                throw invalid(where + ".diskSizeGB", "must be a whole number from 1 to 32767; got " + sizeNode);
            } else {
                sizeGb = sizeNode.asInt();
            }
        }
        String atRestDes = managed.path("diskEncryptionSet").path("id").asText(null);
        if (os && atRestDes != null) {
            // the OS disk of any VM here is encrypted by its security profile (or the platform key)
            throw invalid(where + ".managedDisk.diskEncryptionSet", "is not supported on the OS disk; for a "
                    + "confidential OS disk with a customer key use managedDisk.securityProfile.diskEncryptionSet");
        }
        return new DiskSpec(lun, d.path("name").asText(defaultName), optionKey,
                sizeGb, attachId, deleteOption, managed.path("storageAccountType").asText("Premium_LRS"),
                atRestDes == null ? null : ResourceId.parse(atRestDes).toString());
    }

    static ArmException invalid(String target, String why) {
        return ArmException.badRequest("InvalidParameter", "The value of parameter " + target + " is invalid: "
                + why + ".");
    }
}
