package io.coffre.store;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of {@link H2MetadataKillTest}: threads commit forever to the embedded H2 metadata store, each
 * printing {@code generation} after its commit returns, until the process is killed. Each commit appends its
 * generation to a log table and rewrites one of a few rows with a body of random length, so the file keeps filling
 * with dead space that the store may reuse.
 */
public final class KilledMetadataWriter {
    static final int ROWS = 64;
    private static final int WRITERS = 4;

    private KilledMetadataWriter() {
    }

    public static void main(String[] args) {
        // a small threshold, so the housekeeper compacts the file while the writers commit (and is killed in it)
        MetadataStore store = MetadataStores.h2(Path.of(args[0]), 1 << 20);
        AtomicLong generations = new AtomicLong(Long.parseLong(args[1]));
        store.withHandle(h -> {
            h.execute("CREATE TABLE IF NOT EXISTS kill_log (generation BIGINT PRIMARY KEY)");
            h.execute("CREATE TABLE IF NOT EXISTS kill_rows (id INT PRIMARY KEY, generation BIGINT, body VARCHAR)");
            // H2 may reuse the space of chunks dead for 45 s; without the wait, a short test sees that at once
            h.execute("SET RETENTION_TIME 0");
            return null;
        });
        for (int i = 0; i < WRITERS; i++) {
            Thread writer = new Thread(() -> commitForever(store, generations));
            writer.start();
        }
    }

    private static void commitForever(MetadataStore store, AtomicLong generations) {
        Random random = new Random();
        for (; ; ) {
            long g = generations.getAndIncrement();
            String body = "x".repeat(100 + random.nextInt(20_000));
            store.inTransaction(h -> {
                h.execute("INSERT INTO kill_log (generation) VALUES (?)", g);
                h.execute("MERGE INTO kill_rows (id, generation, body) KEY (id) VALUES (?, ?, ?)",
                        (int) (g % ROWS), g, body);
                return null;
            });
            synchronized (System.out) {
                System.out.println(g);
                System.out.flush();
            }
        }
    }
}
