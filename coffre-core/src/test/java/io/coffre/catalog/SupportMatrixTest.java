package io.coffre.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class SupportMatrixTest {
    private static final String FULL_DISK = "DiskWithVMGuestState";
    private final SupportMatrix seed = SupportMatrix.load("default");
    private final SupportMatrix extended = SupportMatrix.load("extended");

    private static void assertRefused(Optional<Refusal> refusal, String code, String messageStart) {
        assertThat(refusal).hasValueSatisfying(r -> {
            assertThat(r.status()).isEqualTo(400);
            assertThat(r.code()).isEqualTo(code);
            assertThat(r.message()).startsWith(messageStart);
            assertThat(r.toException().code()).isEqualTo(code);
        });
    }

    @Test
    void theDefaultMatrixIsTheSeeds() {
        assertThat(seed.name()).isEqualTo("default");
        assertThat(seed.regions()).containsExactly("uaenorth", "koreacentral");
        assertThat(seed.crashConsistentMultiDisk()).isFalse();
        assertThat(seed.crossRegionRestore()).isFalse();
        assertThat(seed.blockingFeature().toString()).isEqualTo("Microsoft.Compute/ConfidentialVMV2OptOut");
        assertThat(seed.checkBackup("uaenorth", "Standard_DC2as_v6", FULL_DISK, false)).isEmpty();
        assertThat(seed.checkBackup("Korea Central", "Standard_EC4as_v6", FULL_DISK, false)).isEmpty();
        assertThat(seed.checkBackup("koreacentral", "Standard_DC4es_v6", FULL_DISK, false)).isEmpty();
        assertThat(seed.checkPolicy("V2")).isEmpty();
        assertThat(seed.checkRestorePoint("uaenorth", "Standard_DC8as_v6", false)).isEmpty();
        assertThat(seed.checkRestore("uaenorth", "UAE North", false)).isEmpty();
    }

    @Test
    void theDefaultMatrixRefusesWhatTheSeedRefusesWithStableCodes() {
        assertRefused(seed.checkBackup("eastus", "Standard_DC2as_v6", FULL_DISK, false),
                "UserErrorConfidentialVmRegionNotSupported", "Backup of confidential VMs is not supported in region"
                        + " 'eastus'. Supported regions: uaenorth, koreacentral.");
        assertRefused(seed.checkBackup("uaenorth", "Standard_DC2as_v5", FULL_DISK, false),
                "UserErrorConfidentialVmSizeNotSupported", "Backup of confidential VMs is supported only for v6"
                        + " confidential VM sizes, e.g. Standard_DC2as_v6");
        assertRefused(seed.checkBackup("uaenorth", "Standard_D2s_v5", FULL_DISK, false),
                "UserErrorConfidentialVmSizeNotSupported", "Backup of confidential VMs is supported only for v6");
        assertRefused(seed.checkBackup("uaenorth", "Standard_Nope", FULL_DISK, false), "SkuNotAvailable",
                "The requested VM size 'Standard_Nope' is not available.");
        assertRefused(seed.checkBackup("uaenorth", "Standard_DC2as_v6", "VMGuestStateOnly", false),
                "UserErrorConfidentialVmOsDiskEncryptionRequired", "Backup of confidential VMs requires confidential"
                        + " OS disk encryption (securityEncryptionType 'DiskWithVMGuestState'); this VM's OS disk has"
                        + " 'VMGuestStateOnly'.");
        assertRefused(seed.checkBackup("uaenorth", "Standard_DC2as_v6", FULL_DISK, true),
                "UserErrorConfidentialVmV2OptOut", "Backup of confidential VMs fails while the subscription has the"
                        + " feature 'Microsoft.Compute/ConfidentialVMV2OptOut' (CVM v2 opt-out) registered. Unregister"
                        + " it: coffre feature unregister --namespace Microsoft.Compute --name ConfidentialVMV2OptOut.");
        assertRefused(seed.checkRestore("uaenorth", "uaenorth", true), "UserErrorConfidentialVmV2OptOut",
                "Restore of confidential VMs fails while");
        assertRefused(seed.checkPolicy("V1"), "UserErrorConfidentialVmEnhancedPolicyRequired", "Confidential VMs can"
                + " be protected only with an Enhanced policy (policyType 'V2'); the policy has policyType 'V1'.");
        assertRefused(seed.checkRestorePoint("westeurope", "Standard_DC2as_v6", false),
                "RestorePointsNotSupportedInRegion", "This region does not support creation of Restore Points of a"
                        + " Virtual Machine with 'ConfidentialVM' security type.");
        assertRefused(seed.checkRestorePoint("uaenorth", "Standard_EC2as_v5", false),
                "RestorePointsNotSupportedForVmSize", "Restore Points of a Virtual Machine with 'ConfidentialVM'"
                        + " security type is supported only for v6");
        assertRefused(seed.checkRestorePoint("uaenorth", "Standard_DC2as_v6", true),
                "CrashConsistentRestorePointsNotSupported", "Crash-consistent Restore Points of a Virtual Machine"
                        + " with 'ConfidentialVM' security type are not supported.");
        assertRefused(seed.checkRestore("uaenorth", "uaecentral", false), "UserErrorCrossRegionRestoreNotSupported",
                "Cross Region Restore is not supported for confidential VMs: v6 confidential VM sizes are not"
                        + " available in the paired regions.");
    }

    @Test
    void theExtendedMatrixAddsCrashConsistencyCrossRegionRestoreAndRegions() {
        assertThat(extended.regions()).contains("uaenorth", "koreacentral", "eastus", "westeurope", "northeurope",
                "uaecentral", "koreasouth");
        assertThat(extended.crashConsistentMultiDisk()).isTrue();
        assertThat(extended.crossRegionRestore()).isTrue();
        assertThat(extended.checkBackup("westeurope", "Standard_DC2as_v6", FULL_DISK, false)).isEmpty();
        assertThat(extended.checkRestorePoint("eastus", "Standard_DC2as_v6", true)).isEmpty();
        assertThat(extended.checkRestore("uaenorth", "uaecentral", false)).isEmpty();
        assertThat(extended.checkRestore("northeurope", "westeurope", false)).isEmpty();

        // What the extension leaves as it was.
        assertRefused(extended.checkBackup("westeurope", "Standard_DC2as_v5", FULL_DISK, false),
                "UserErrorConfidentialVmSizeNotSupported", "Backup of confidential VMs is supported only for v6");
        assertRefused(extended.checkBackup("westeurope", "Standard_DC2as_v6", FULL_DISK, true),
                "UserErrorConfidentialVmV2OptOut", "Backup of confidential VMs fails while");
        assertRefused(extended.checkBackup("swedencentral", "Standard_DC2as_v6", FULL_DISK, false),
                "UserErrorConfidentialVmRegionNotSupported", "Backup of confidential VMs is not supported in region"
                        + " 'swedencentral'.");
        assertRefused(extended.checkRestore("uaenorth", "koreacentral", false),
                "UserErrorCrossRegionRestoreNotSupported", "Cross Region Restore of a confidential VM backed up in"
                        + " 'uaenorth' goes only to its paired region 'uaecentral', not to 'koreacentral'.");
        assertThat(extended.checkPolicy("V1")).isPresent();
    }

    @Test
    void everyMatrixRegionIsInTheRegionCatalog() {
        for (String name : SupportMatrix.NAMES) {
            for (String region : SupportMatrix.load(name).regions()) {
                assertThat(Regions.builtIn().find(region)).as(name + ": " + region).isPresent();
            }
        }
    }

    @Test
    void anUnknownMatrixNameIsAClearError() {
        assertThatThrownBy(() -> SupportMatrix.load("wide")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Unknown support matrix 'wide'; choose one of default, extended.");
        assertThatThrownBy(() -> SupportMatrix.load("../regions")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SupportMatrix.load(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
