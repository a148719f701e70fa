package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs a JVM committing to the embedded H2 metadata store and checks that a reopened store has every commit the
 * writer saw return. Between kills the store is opened and closed cleanly, as a server restarted by hand would be:
 * a clean close compacts the file, and the next writer's chunks then land in the space it freed. That is the case
 * H2 lost acknowledged commits in when it reused free space (the recovery went back to the file header's older
 * chunk), so this test fails if {@link MetadataStores#h2} lets it reuse space again. After each reopen every row the
 * writers update must take a write again: without {@link H2LeftoverCommits}, a kill in mid-commit left rows locked
 * for good.
 */
class H2MetadataKillTest {
    private static final int ROUNDS = 6;

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void everyAcknowledgedCommitSurvivesAKill() throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        Set<Long> acknowledged = new HashSet<>();
        long next = 1;
        for (int round = 1; round <= ROUNDS; round++) {
            String context = "seed " + seed + ", round " + round;
            bulkWriteAndCloseCleanly(random);
            // a few commits (all in the first chunks after the open) or seconds of them (housekeeper compactions)
            int commits = round % 2 == 1 ? 1 + random.nextInt(30) : 2_000 + random.nextInt(6_000);
            List<Long> acks = runAndKill(next, commits, random.nextInt(50));
            acknowledged.addAll(acks);

            try (MetadataStore reopened = MetadataStores.h2(dir)) {
                Set<Long> logged = new HashSet<>(reopened.withHandle(h -> h.createQuery(
                        "SELECT generation FROM kill_log").mapTo(Long.class).list()));
                // the writer may have committed more than it could print before the kill
                next = Math.max(next, logged.stream().mapToLong(Long::longValue).max().orElse(0) + 1);
                List<Long> lost = acknowledged.stream().filter(g -> !logged.contains(g)).sorted().toList();
                assertThat(lost).as("%s: acknowledged commits missing after the kill (of %d)", context,
                        acknowledged.size()).isEmpty();
                everyRowTakesAWrite(reopened, context);
            }
        }
        assertThat(acknowledged).as("the writers made progress before being killed").isNotEmpty();
    }

    /**
     * Updates every row the writers update, in one transaction. A commit cut short by the kill must have been
     * finished or undone by the reopen: H2 left such a transaction open and marked committed, and every later write
     * to its rows spun in H2 for good, past any lock timeout (the next writer hung after a few hundred commits). A
     * hang here fails the round at once, named; the spinning thread cannot be stopped.
     */
    private static void everyRowTakesAWrite(MetadataStore store, String context) {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> store.inTransaction(h -> {
            for (int id = 0; id < KilledMetadataWriter.ROWS; id++) {
                h.execute("MERGE INTO kill_rows (id, generation, body) KEY (id) VALUES (?, 0, 'after the kill')", id);
            }
            return null;
        }), context + ": a row the killed writer was committing stayed locked after the reopen");
    }

    /**
     * Writes and mostly deletes a few megabytes in this process and closes the store: the clean close compacts the
     * file and leaves free space inside it, where the next writer's first chunks go.
     */
    private void bulkWriteAndCloseCleanly(Random random) {
        try (MetadataStore store = MetadataStores.h2(dir)) {
            store.withHandle(h -> {
                h.execute("CREATE TABLE IF NOT EXISTS kill_bulk (id INT PRIMARY KEY, body VARCHAR)");
                for (int i = 0; i < 400; i++) {
                    h.execute("MERGE INTO kill_bulk (id, body) KEY (id) VALUES (?, ?)", i,
                            "b".repeat(1_000 + random.nextInt(20_000)));
                }
                h.execute("DELETE FROM kill_bulk WHERE MOD(id, 4) <> 0");
                return null;
            });
        }
    }

    private List<Long> runAndKill(long firstGeneration, int commits, int delayMillis)
            throws IOException, InterruptedException {
        return KilledChild.runAndKill(KilledMetadataWriter.class, List.of(dir.toString(),
                        Long.toString(firstGeneration)), commits, delayMillis, dir.resolve("writer.err"))
                .stream().filter(line -> line.matches("\\d+")).map(Long::parseLong).toList();
    }
}
