package io.coffre.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.SQLException;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

/** The JDBC implementation shared by H2 and PostgreSQL: pooled connections, Flyway migrations, error mapping. */
final class JdbcMetadataStore implements MetadataStore {
    private static final String UNIQUE_VIOLATION = "23505";

    private final HikariDataSource dataSource;
    private final Jdbi jdbi;

    JdbcMetadataStore(String url, String user, String password, int poolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("coffre-metadata");
        this.dataSource = new HikariDataSource(config);
        try {
            Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        this.jdbi = Jdbi.create(dataSource);
    }

    @Override
    public <R> R inTransaction(Work<R> work) {
        return translate(() -> jdbi.inTransaction(work::run));
    }

    @Override
    public <R> R withHandle(Work<R> work) {
        return translate(() -> jdbi.withHandle(work::run));
    }

    @Override
    public List<String> tables() {
        return withHandle(h -> h.createQuery(
                        "SELECT table_name FROM information_schema.tables WHERE lower(table_schema) = 'public'"
                                + " AND lower(table_type) IN ('base table', 'table') ORDER BY table_name")
                .mapTo(String.class).list());
    }

    @Override
    public void close() {
        dataSource.close();
    }

    private static <R> R translate(java.util.function.Supplier<R> call) {
        try {
            return call.get();
        } catch (JdbiException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
                    throw new StoreConflictException(sql.getMessage(), e);
                }
            }
            throw e;
        }
    }
}
