package io.coffre.attestation;

import io.coffre.Endpoints;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;

/** Opens the built-in attestation service, creating its signing key and certificate on first use. */
public final class Attestations {
    private Attestations() {
    }

    public static AttestationService open(MetadataStore metadata, Sealer sealer, Endpoints endpoints,
                                          CoffreClock clock) {
        return new BuiltInAttestation(metadata, sealer, endpoints, clock);
    }
}
