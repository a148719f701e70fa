package io.coffre.server;

import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStores;
import java.nio.file.Path;

/**
 * How a Coffre server is started ({@code coffre server} flags).
 *
 * @param masterKeyFile null: take {@code COFFRE_MASTER_KEY} from the environment, else generate one in the data dir
 * @param tlsCert       null: generate a self-signed certificate into the data dir on first start
 * @param matrix        support matrix name ({@code default} reproduces the seed; {@code extended} adds Coffre's features)
 * @param nbdPort       loopback port of the NBD server exporting running VMs' disks; 0 picks a free one (the
 *                      programmatic default, so test servers never collide; {@code coffre server} defaults to
 *                      {@value #DEFAULT_NBD_PORT})
 * @param database      the database server holding the metadata (PostgreSQL), or null for the embedded H2 in the
 *                      data directory
 * @param blobs         the S3 bucket holding the blobs, or null for files in the data directory
 */
public record ServerConfig(Path dataDir, String bindHost, int port, String dnsSuffix, Path masterKeyFile,
                           boolean manualClock, Path tlsCert, Path tlsKey, String matrix, int nbdPort,
                           MetadataStores.Database database, BlobStores.S3Location blobs) {
    public static final String DEFAULT_DNS_SUFFIX = "coffre.localhost";
    public static final int DEFAULT_PORT = 8443;
    /** The NBD protocol's registered port. */
    public static final int DEFAULT_NBD_PORT = 10809;

    /** With an ephemeral NBD port. */
    public ServerConfig(Path dataDir, String bindHost, int port, String dnsSuffix, Path masterKeyFile,
                        boolean manualClock, Path tlsCert, Path tlsKey, String matrix) {
        this(dataDir, bindHost, port, dnsSuffix, masterKeyFile, manualClock, tlsCert, tlsKey, matrix, 0, null, null);
    }

    public static ServerConfig defaults(Path dataDir) {
        return new ServerConfig(dataDir, "127.0.0.1", DEFAULT_PORT, DEFAULT_DNS_SUFFIX, null, false, null, null,
                "default");
    }

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(dataDir, bindHost, newPort, dnsSuffix, masterKeyFile, manualClock, tlsCert, tlsKey,
                matrix, nbdPort, database, blobs);
    }

    public ServerConfig withManualClock(boolean manual) {
        return new ServerConfig(dataDir, bindHost, port, dnsSuffix, masterKeyFile, manual, tlsCert, tlsKey, matrix,
                nbdPort, database, blobs);
    }

    /** Scale-out storage: metadata in {@code newDatabase}, blobs in {@code newBlobs} (each null: the data dir). */
    public ServerConfig withStorage(MetadataStores.Database newDatabase, BlobStores.S3Location newBlobs) {
        return new ServerConfig(dataDir, bindHost, port, dnsSuffix, masterKeyFile, manualClock, tlsCert, tlsKey,
                matrix, nbdPort, newDatabase, newBlobs);
    }
}
