package io.coffre.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.coffre.arm.ArmException;
import org.junit.jupiter.api.Test;

class RegionsTest {
    private final Regions regions = Regions.builtIn();

    @Test
    void regionsAreFoundByNameOrDisplayName() {
        Regions.Region north = regions.find("UAE North").orElseThrow();
        assertThat(north.name()).isEqualTo("uaenorth");
        assertThat(north.displayName()).isEqualTo("UAE North");
        assertThat(north.geography()).isEqualTo("UAE");
        assertThat(north.pairedRegion()).isEqualTo("uaecentral");
        assertThat(regions.find("uaecentral").orElseThrow().geography()).isEqualTo("UAE");
        assertThat(regions.find("koreacentral").orElseThrow().pairedRegion()).isEqualTo("koreasouth");
        assertThat(regions.find("KoreaSouth").orElseThrow().geography()).isEqualTo("Korea");
        assertThat(regions.find("westus2").orElseThrow().geography()).isEqualTo("United States");
        assertThat(regions.find("westeurope").orElseThrow().geography())
                .isEqualTo(regions.find("northeurope").orElseThrow().geography());
        assertThat(regions.find("mars")).isEmpty();
    }

    @Test
    void everyPairedRegionIsAKnownRegionOfTheSameCatalog() {
        for (Regions.Region region : regions.all()) {
            if (region.pairedRegion() != null) {
                assertThat(regions.find(region.pairedRegion())).as(region.name()).isPresent();
            }
            assertThat(region.geography()).as(region.name()).isNotBlank();
        }
    }

    @Test
    void unknownLocationIsRejectedWithTheValidOnes() {
        ArmException e = catchThrowableOfType(ArmException.class,
                () -> regions.require("mars", "Microsoft.KeyVault/vaults"));
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.code()).isEqualTo("LocationNotAvailableForResourceType");
        assertThat(e.getMessage()).contains("'mars'").contains("Microsoft.KeyVault/vaults").contains("uaenorth,");
    }
}
