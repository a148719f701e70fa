package io.coffre.authorization;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ActionPatternTest {
    @Test
    void starMatchesAnyRunIncludingSlashes() {
        ActionPattern keys = ActionPattern.of(List.of("Microsoft.KeyVault/vaults/keys/*"));
        assertThat(keys.matches("Microsoft.KeyVault/vaults/keys/read")).isTrue();
        assertThat(keys.matches("Microsoft.KeyVault/vaults/keys/unwrap/action")).isTrue();
        assertThat(keys.matches("microsoft.keyvault/VAULTS/keys/release/action")).isTrue();
        assertThat(keys.matches("Microsoft.KeyVault/vaults/secrets/getSecret/action")).isFalse();
        assertThat(keys.matches("Microsoft.KeyVault/vaults/keysX/read")).isFalse();

        ActionPattern reads = ActionPattern.of(List.of("*/read"));
        assertThat(reads.matches("Microsoft.Compute/virtualMachines/read")).isTrue();
        assertThat(reads.matches("Microsoft.Compute/virtualMachines/write")).isFalse();

        ActionPattern middle = ActionPattern.of(List.of("Microsoft.KeyVault/vaults/*/read"));
        assertThat(middle.matches("Microsoft.KeyVault/vaults/keys/read")).isTrue();
        assertThat(middle.matches("Microsoft.KeyVault/vaults/keys/versions/read")).isTrue();
        assertThat(middle.matches("Microsoft.KeyVault/vaults/read")).as("the star needs its own segment").isFalse();

        assertThat(ActionPattern.of(List.of("*")).matches("anything/at/all")).isTrue();
        assertThat(ActionPattern.of(List.of()).matches("x")).isFalse();
    }

    @Test
    void patternCharactersOtherThanStarAreLiteral() {
        ActionPattern dotted = ActionPattern.of(List.of("Microsoft.KeyVault/vaults/read"));
        assertThat(dotted.matches("MicrosoftXKeyVault/vaults/read")).isFalse();
        assertThat(ActionPattern.of(List.of("a(b)+/read")).matches("a(b)+/read")).isTrue();
    }
}
