package io.coffre;

import io.coffre.audit.AuditLog;
import io.coffre.audit.AuditLogs;
import io.coffre.store.BlobStore;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.CoffreClock;
import java.nio.file.Path;

/**
 * Everything Coffre is, without HTTP: the storage seams, the clock and the capabilities built on them. The server,
 * the benchmarks and in-process tests all start from here.
 */
public final class CoffreCore implements AutoCloseable {
    private final Endpoints endpoints;
    private final CoffreClock clock;
    private final MetadataStore metadata;
    private final BlobStore blobs;
    private final AuditLog audit;

    public CoffreCore(Path dataDir, Endpoints endpoints, CoffreClock clock) {
        this(MetadataStores.h2(dataDir.resolve("db")), BlobStores.fileSystem(dataDir.resolve("blobs")), endpoints,
                clock);
    }

    public CoffreCore(MetadataStore metadata, BlobStore blobs, Endpoints endpoints, CoffreClock clock) {
        this.metadata = metadata;
        this.blobs = blobs;
        this.endpoints = endpoints;
        this.clock = clock;
        this.audit = AuditLogs.open(metadata, clock);
    }

    public Endpoints endpoints() {
        return endpoints;
    }

    public CoffreClock clock() {
        return clock;
    }

    public MetadataStore metadata() {
        return metadata;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public AuditLog audit() {
        return audit;
    }

    @Override
    public void close() {
        blobs.close();
        metadata.close();
    }
}
