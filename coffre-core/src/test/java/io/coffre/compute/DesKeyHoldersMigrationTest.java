package io.coffre.compute;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;

/** V13 turns the byte copies of wrapped DES keys that earlier versions stored into references to the DES's own. */
class DesKeyHoldersMigrationTest {
    private static final String URL = "jdbc:h2:mem:v13-holders;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE"
            + ";DB_CLOSE_DELAY=-1";

    @Test
    void copiesBecomeHoldersAndOnlyTheOwnWrappedKeyIsLeft() throws Exception {
        try (Connection c = DriverManager.getConnection(URL, "sa", ""); Statement s = c.createStatement()) {
            migrate("10");
            s.execute("INSERT INTO compute_wrapped_des_keys (owner_id, des_id, kek_key_id, wrapped) VALUES"
                    + " ('des-a', 'des-a', 'kek/v1', X'01'), ('snapshot-1', 'des-a', 'kek/v1', X'01'),"
                    + " ('restore-point-1', 'des-a', 'kek/v1', X'01'), ('platform/uaenorth', 'platform/uaenorth',"
                    + " 'kek/p', X'02')");
            migrate(null);
            assertThat(rows(s, "SELECT owner_id || ' ' || des_id FROM compute_des_key_holders ORDER BY owner_id"))
                    .containsExactly("restore-point-1 des-a", "snapshot-1 des-a");
            assertThat(rows(s, "SELECT owner_id || ' ' || kek_key_id FROM compute_wrapped_des_keys"
                    + " ORDER BY owner_id")).containsExactly("des-a kek/v1", "platform/uaenorth kek/p");
            s.execute("SHUTDOWN");
        }
    }

    private static void migrate(String target) {
        var config = Flyway.configure().dataSource(URL, "sa", "").locations("classpath:db/migration");
        if (target != null) {
            config.target(target);
        }
        config.load().migrate();
    }

    private static List<String> rows(Statement s, String sql) throws Exception {
        List<String> rows = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                rows.add(rs.getString(1));
            }
        }
        return rows;
    }
}
