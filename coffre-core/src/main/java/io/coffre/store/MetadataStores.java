package io.coffre.store;

import java.nio.file.Path;

/** Opens the metadata store named by the configuration; the only place that knows the implementations. */
public final class MetadataStores {
    private MetadataStores() {
    }

    /**
     * The embedded default: an H2 file database under {@code dir}, in PostgreSQL compatibility mode. WRITE_DELAY=0
     * writes each commit to the file before the commit returns: by default H2 writes them up to a second later, so a
     * killed process lost commits it had acknowledged (and blob deletes that followed them were not undone).
     */
    public static MetadataStore h2(Path dir) {
        String url = "jdbc:h2:file:" + dir.toAbsolutePath().resolve("coffre")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;WRITE_DELAY=0";
        return new JdbcMetadataStore(url, "sa", "", 8);
    }

    /** An H2 database that lives only as long as the JVM holds it open (tests). */
    public static MetadataStore h2InMemory(String name) {
        String url = "jdbc:h2:mem:" + name + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH;DB_CLOSE_DELAY=-1";
        return new JdbcMetadataStore(url, "sa", "", 8);
    }

    /** Any JDBC URL the driver set understands (PostgreSQL for scale-out). */
    public static MetadataStore jdbc(String url, String user, String password) {
        return new JdbcMetadataStore(url, user, password, 16);
    }
}
