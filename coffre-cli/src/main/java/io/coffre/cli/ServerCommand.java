package io.coffre.cli;

import io.coffre.catalog.SupportMatrix;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStores;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", description = "Run a Coffre server in the foreground; Ctrl-C or SIGTERM stops it cleanly.")
final class ServerCommand extends CliCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "" + ServerConfig.DEFAULT_PORT, paramLabel = "N",
            description = "HTTPS port (default: ${DEFAULT-VALUE}; 0 picks a free one, written to server.json).")
    int port;

    @Option(names = "--nbd-port", defaultValue = "" + ServerConfig.DEFAULT_NBD_PORT, paramLabel = "N",
            description = "Loopback port of the NBD server exporting running VMs' disks (default: ${DEFAULT-VALUE}; 0 "
                    + "picks a free one, written to server.json as nbdPort).")
    int nbdPort;

    @Option(names = "--bind", defaultValue = "127.0.0.1", paramLabel = "HOST",
            description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--dns-suffix", defaultValue = ServerConfig.DEFAULT_DNS_SUFFIX, paramLabel = "SUFFIX",
            description = "Vaults are {name}.vault.SUFFIX, HSMs {name}.managedhsm.SUFFIX (default: ${DEFAULT-VALUE}).")
    String dnsSuffix;

    @Option(names = "--master-key-file", paramLabel = "FILE",
            description = "Master key sealing key material (default: $COFFRE_MASTER_KEY, else one in the data dir).")
    Path masterKeyFile;

    @Option(names = "--manual-clock",
            description = "Server time moves only with `coffre admin clock advance` (beyond real time).")
    boolean manualClock;

    @Option(names = "--tls-cert", paramLabel = "FILE", description = "PEM certificate (default: self-signed).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "PEM private key for --tls-cert.")
    Path tlsKey;

    @Option(names = "--matrix", defaultValue = "default", paramLabel = "NAME",
            description = "Support matrix: default (as Azure) or extended (Coffre's additions).")
    String matrix;

    @Option(names = "--database-url", paramLabel = "JDBC_URL",
            description = "Keep the metadata in this PostgreSQL database (jdbc:postgresql://HOST:PORT/DB) instead of "
                    + "the embedded H2; the password comes from $COFFRE_DATABASE_PASSWORD.")
    String databaseUrl;

    @Option(names = "--database-user", paramLabel = "USER", description = "User for --database-url.")
    String databaseUser;

    @Option(names = "--standby", description = "With --database-url: when another node is active on the database, "
            + "wait for it to stop and take over (resuming what it left in progress) instead of failing.")
    boolean standby;

    @Option(names = "--s3-endpoint", paramLabel = "URL",
            description = "Keep the blobs in an S3-compatible object store at URL (path-style) instead of the data "
                    + "directory; keys from $COFFRE_S3_ACCESS_KEY and $COFFRE_S3_SECRET_KEY.")
    URI s3Endpoint;

    @Option(names = "--s3-bucket", paramLabel = "BUCKET", description = "Bucket for --s3-endpoint (it must exist).")
    String s3Bucket;

    @Option(names = "--s3-prefix", defaultValue = "", paramLabel = "PREFIX",
            description = "Key prefix in the bucket, ending in '/' (default: none).")
    String s3Prefix;

    @Option(names = "--s3-region", defaultValue = "us-east-1", paramLabel = "REGION",
            description = "Region to sign --s3-endpoint requests for (default: ${DEFAULT-VALUE}).")
    String s3Region;

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig config = config();
        CoffreServer server = start(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "coffre-shutdown"));
        root().out().println("Coffre is serving https://management." + config.dnsSuffix() + ":" + server.port()
                + " (data directory " + config.dataDir().toAbsolutePath() + "). Ctrl-C stops it.");
        root().out().flush();
        stopped.await();
        return 0;
    }

    /** Starts a server; a failure to start (port taken, unreadable key file...) is the user's to fix, not a bug. */
    static CoffreServer start(ServerConfig config) {
        try {
            return CoffreServer.start(config);
        } catch (RuntimeException e) {
            throw new CliError("Cannot start the server on " + config.bindHost() + ":" + config.port() + " ("
                    + config.dataDir() + "): " + e.getMessage(), e);
        }
    }

    ServerConfig config() {
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new UsageError("--tls-cert and --tls-key go together.");
        }
        if (port < 0 || port > 65535) {
            throw new UsageError("--port must be 0..65535, got " + port + ".");
        }
        if (nbdPort < 0 || nbdPort > 65535) {
            throw new UsageError("--nbd-port must be 0..65535, got " + nbdPort + ".");
        }
        if (!SupportMatrix.NAMES.contains(matrix)) {
            throw new UsageError("--matrix is 'default' or 'extended', got '" + matrix + "'.");
        }
        if (databaseUrl == null && (databaseUser != null || standby)) {
            throw new UsageError((standby ? "--standby" : "--database-user") + " goes with --database-url.");
        }
        if (databaseUrl != null && !databaseUrl.startsWith("jdbc:postgresql:")) {
            throw new UsageError("--database-url takes a PostgreSQL JDBC URL (jdbc:postgresql://HOST:PORT/DB), got '"
                    + databaseUrl + "'.");
        }
        MetadataStores.Database database = databaseUrl == null ? null : new MetadataStores.Database(databaseUrl,
                databaseUser, System.getenv("COFFRE_DATABASE_PASSWORD"), standby);
        return new ServerConfig(root().dataDir(), bind, port, dnsSuffix, masterKeyFile, manualClock, tlsCert, tlsKey,
                matrix, nbdPort, database, s3());
    }

    private BlobStores.S3Location s3() {
        if (s3Endpoint == null) {
            if (s3Bucket != null || !s3Prefix.isEmpty()) {
                throw new UsageError("--s3-bucket and --s3-prefix go with --s3-endpoint.");
            }
            return null;
        }
        if (s3Bucket == null) {
            throw new UsageError("--s3-endpoint needs --s3-bucket.");
        }
        if (!s3Prefix.isEmpty() && !s3Prefix.endsWith("/")) {
            throw new UsageError("--s3-prefix ends in '/', got '" + s3Prefix + "'.");
        }
        String accessKey = System.getenv("COFFRE_S3_ACCESS_KEY");
        String secretKey = System.getenv("COFFRE_S3_SECRET_KEY");
        if (accessKey == null || secretKey == null) {
            throw new UsageError("--s3-endpoint takes its keys from $COFFRE_S3_ACCESS_KEY and $COFFRE_S3_SECRET_KEY;"
                    + " set both.");
        }
        return new BlobStores.S3Location(s3Endpoint, s3Region, s3Bucket, s3Prefix, accessKey, secretKey);
    }
}
