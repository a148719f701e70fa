package io.coffre.identity;

import io.coffre.Endpoints;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.util.Optional;

/** Opens the built-in directory, creating tenant, subscription, administrator and first-party apps on first use. */
public final class Identities {
    private Identities() {
    }

    public static Identity open(MetadataStore metadata, Sealer sealer, Endpoints endpoints, CoffreClock clock) {
        return new BuiltInIdentity(metadata, sealer, endpoints, clock);
    }

    /** The administrator's secret if {@code identity} was created by this start (shown once), else empty. */
    public static Optional<String> newAdminSecret(Identity identity) {
        return identity instanceof BuiltInIdentity builtIn ? Optional.ofNullable(builtIn.newAdminSecret())
                : Optional.empty();
    }
}
