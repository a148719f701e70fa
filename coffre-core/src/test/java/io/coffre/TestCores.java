package io.coffre;

import io.coffre.time.ManualClock;
import java.nio.file.Path;

/** A real core (H2 file database, file blobs, generated master key) in a test's temporary directory. */
public final class TestCores {
    public static final Endpoints ENDPOINTS = new Endpoints("coffre.localhost", 8443);

    private TestCores() {
    }

    public static CoffreCore open(Path dataDir) {
        return CoffreCore.open(dataDir, null, ENDPOINTS, new ManualClock());
    }
}
