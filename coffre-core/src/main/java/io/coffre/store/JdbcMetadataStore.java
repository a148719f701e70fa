package io.coffre.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.function.Function;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

/** The JDBC implementation shared by H2 and PostgreSQL: pooled connections, Flyway migrations, error mapping. */
final class JdbcMetadataStore implements MetadataStore {
    private static final String UNIQUE_VIOLATION = "23505";

    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final String closeStatement;
    private final AutoCloseable maintenance;
    private final Runnable durability;

    JdbcMetadataStore(String url, String user, String password, int poolSize) {
        this(url, user, password, poolSize, null, null, null);
    }

    /**
     * @param closeStatement run once before the pool closes, or null (H2 in-memory: drop the database)
     * @param maintenance    started on the migrated database and stopped before it closes, or null (H2 file:
     *                       {@link H2Housekeeper}; PostgreSQL: releasing the {@link NodeLock} taken before)
     * @param durability     made on the migrated database; run after every unit of work, it returns once what was
     *                       committed is on the disk; or null when a commit is durable already (PostgreSQL) or
     *                       need not be (in memory). H2 file: {@link H2Sync}
     */
    JdbcMetadataStore(String url, String user, String password, int poolSize, String closeStatement,
                      Function<DataSource, AutoCloseable> maintenance, Function<DataSource, Runnable> durability) {
        this.closeStatement = closeStatement;
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(poolSize);
        config.setPoolName("coffre-metadata");
        this.dataSource = new HikariDataSource(config);
        try {
            Flyway.configure().dataSource(dataSource).locations("classpath:db/migration").load().migrate();
            this.maintenance = maintenance == null ? null : maintenance.apply(dataSource);
            this.durability = durability == null ? () -> { } : durability.apply(dataSource);
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        this.jdbi = Jdbi.create(dataSource);
    }

    @Override
    public <R> R inTransaction(Work<R> work) {
        R result = translate(() -> jdbi.inTransaction(work::run));
        durability.run();
        return result;
    }

    /** Durable too: a handle's statements may write, each committed on its own. */
    @Override
    public <R> R withHandle(Work<R> work) {
        R result = translate(() -> jdbi.withHandle(work::run));
        durability.run();
        return result;
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
        if (dataSource.isClosed()) {
            return;
        }
        if (maintenance != null) {
            try {
                maintenance.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot stop the metadata store's maintenance: " + e.getMessage(), e);
            }
        }
        dataSource.close();
        if (closeStatement == null) {
            return;
        }
        // on a connection of its own, outside the closed pool: the statement may end the database under it
        try (Connection c = DriverManager.getConnection(dataSource.getJdbcUrl(), dataSource.getUsername(),
                dataSource.getPassword()); Statement s = c.createStatement()) {
            s.execute(closeStatement);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot close the metadata store: " + e.getMessage(), e);
        }
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
