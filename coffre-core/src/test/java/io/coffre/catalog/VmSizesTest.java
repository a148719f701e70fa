package io.coffre.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.coffre.arm.ArmException;
import io.coffre.catalog.VmSizes.ConfidentialTechnology;
import io.coffre.catalog.VmSizes.VmSize;
import java.util.List;
import org.junit.jupiter.api.Test;

class VmSizesTest {
    private final VmSizes sizes = VmSizes.builtIn();

    @Test
    void holdsTheConfidentialSizesWithTheirTechnologyAndShape() {
        VmSize dc2 = sizes.require("Standard_DC2as_v6");
        assertThat(dc2).isEqualTo(new VmSize("Standard_DC2as_v6", "DCasv6", "v6", ConfidentialTechnology.AMD_SEV_SNP,
                2, 8, 4));
        assertThat(dc2.confidentialCapable()).isTrue();
        assertThat(sizes.require("standard_ec8as_v6")).satisfies(s -> {
            assertThat(s.name()).as("found case-insensitively, named as Azure spells it").isEqualTo("Standard_EC8as_v6");
            assertThat(s.vCpus()).isEqualTo(8);
            assertThat(s.memoryGiB()).isEqualTo(64);
        });
        assertThat(sizes.require("Standard_DC4es_v6").confidentialTechnology()).isEqualTo(ConfidentialTechnology.INTEL_TDX);
        assertThat(sizes.require("Standard_EC4es_v6").memoryGiB()).isEqualTo(32);
        assertThat(sizes.require("Standard_DC2as_v5").generation()).isEqualTo("v5");
        assertThat(sizes.require("Standard_D4s_v5")).satisfies(s -> {
            assertThat(s.confidentialCapable()).isFalse();
            assertThat(s.vCpus()).isEqualTo(4);
            assertThat(s.memoryGiB()).isEqualTo(16);
        });
        for (String name : new String[] {"Standard_DC2as_v5", "Standard_DC4as_v5", "Standard_DC2ads_v5",
                "Standard_EC2as_v5", "Standard_DC2as_v6", "Standard_DC4as_v6", "Standard_DC8as_v6", "Standard_DC16as_v6",
                "Standard_DC2ads_v6", "Standard_EC2as_v6", "Standard_EC4as_v6", "Standard_EC8as_v6", "Standard_DC2es_v6",
                "Standard_DC4es_v6", "Standard_EC4es_v6", "Standard_D2s_v5", "Standard_D4s_v5"}) {
            assertThat(sizes.find(name)).as(name).isPresent();
        }
    }

    @Test
    void everySizeIsConsistent() {
        for (VmSize s : sizes.all()) {
            assertThat(s.name()).as(s.name()).startsWith("Standard_").endsWith("_" + s.generation());
            assertThat(s.vCpus()).as(s.name()).isPositive();
            assertThat(s.memoryGiB()).as(s.name()).isGreaterThanOrEqualTo(s.vCpus());
            assertThat(s.maxDataDisks()).as(s.name()).isPositive();
            // DC is general purpose (4 GiB per vCPU), EC memory optimised (8 GiB per vCPU).
            if (s.family().startsWith("EC")) {
                assertThat(s.memoryGiB()).as(s.name()).isEqualTo(8 * s.vCpus());
            } else {
                assertThat(s.memoryGiB()).as(s.name()).isEqualTo(4 * s.vCpus());
            }
        }
    }

    @Test
    void anUnknownSizeIsRefusedWithTheClosestKnownOnes() {
        assertThat(sizes.find("Standard_DC2as_v7")).isEmpty();
        assertThat(sizes.find(null)).isEmpty();
        ArmException e = catchThrowableOfType(ArmException.class, () -> sizes.require("Standard_DC2as_v7"));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("SkuNotAvailable");
        assertThat(e.getMessage()).startsWith("The requested VM size 'Standard_DC2as_v7' is not available. Close"
                + " matches: Standard_DC2as_v5, Standard_DC2as_v6, ");
    }

    @Test
    void eachFamilyIsPlacedInTheRegionsTheCatalogNames() {
        VmSize v6 = sizes.require("Standard_DC2as_v6");
        assertThat(sizes.regionsOf(v6)).contains("uaenorth", "koreacentral").doesNotContain("brazilsouth");
        assertThat(sizes.regionsOf(sizes.require("Standard_DC2as_v5"))).doesNotContain("uaecentral");
        assertThat(sizes.regionsOf(sizes.require("Standard_D2s_v5")).size()).as("Dsv5 is placed in every region")
                .isEqualTo(Regions.builtIn().all().size());
        assertThat(sizes.offeredIn("UAE North")).as("a region named as ARM accepts it").contains(v6)
                .contains(sizes.require("Standard_DC2es_v6"));
        assertThat(sizes.offeredIn("brazilsouth")).extracting(VmSize::name)
                .containsExactly("Standard_D2s_v5", "Standard_D4s_v5");
        assertThat(sizes.offeredIn("atlantis")).isEmpty();
        for (VmSize s : sizes.all()) {
            assertThat(sizes.regionsOf(s)).as(s.name()).isNotEmpty()
                    .allSatisfy(r -> assertThat(Regions.builtIn().find(r)).as(r).isPresent());
            // a family's sizes share its placement
            assertThat(sizes.all()).filteredOn(o -> o.family().equals(s.family()))
                    .allSatisfy(o -> assertThat(sizes.regionsOf(o)).isEqualTo(sizes.regionsOf(s)));
        }
    }

    @Test
    void everyRegionOfEitherSupportMatrixCanPlaceAConfidentialVmItCovers() {
        for (String matrix : List.of("default", "extended")) {
            for (String region : SupportMatrix.load(matrix).regions()) {
                assertThat(sizes.offeredIn(region)).as(matrix + " matrix, " + region)
                        .anySatisfy(s -> {
                            assertThat(s.confidentialCapable()).isTrue();
                            assertThat(s.generation()).isEqualTo("v6");
                        });
            }
        }
    }

    @Test
    void aSizeARegionDoesNotOfferIsRefusedWithWhereItCanGoAndWhatTheRegionHas() {
        VmSize v6 = sizes.require("Standard_DC2as_v6");
        sizes.requireOffered(v6, "uaenorth", true);
        sizes.requireOffered(sizes.require("Standard_D2s_v5"), "brazilsouth", false);

        ArmException none = catchThrowableOfType(ArmException.class,
                () -> sizes.requireOffered(v6, "brazilsouth", true));
        assertThat(none.status()).isEqualTo(409);
        assertThat(none.code()).isEqualTo("SkuNotAvailable");
        assertThat(none.getMessage()).startsWith("The requested VM size 'Standard_DC2as_v6' is not available in "
                + "location 'brazilsouth'. Creation of VMs and Virtual Machine Scale Sets with ConfidentialVM security "
                + "type is not supported in this region").contains("Sizes of family DCasv6 can be placed in: "
                + String.join(", ", sizes.regionsOf(v6)));

        ArmException other = catchThrowableOfType(ArmException.class,
                () -> sizes.requireOffered(sizes.require("Standard_DC2as_v5"), "uaecentral", true));
        assertThat(other.getMessage()).contains("Sizes available in 'uaecentral' for confidential VMs: "
                + "Standard_DC2as_v6, ").doesNotContain("Standard_D2s_v5");
        ArmException plain = catchThrowableOfType(ArmException.class,
                () -> sizes.requireOffered(sizes.require("Standard_DC2as_v5"), "uaecentral", false));
        assertThat(plain.getMessage()).contains("Sizes available in 'uaecentral': ").contains("Standard_D2s_v5");
    }
}
