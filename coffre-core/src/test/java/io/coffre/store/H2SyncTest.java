package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Group commit over a real H2 file store: every returned call is covered by a finished fsync, and fsyncs are shared. */
class H2SyncTest {
    @TempDir
    Path dir;

    /** A real store that counts its fsyncs and remembers below which version the finished ones cover. */
    private static final class CountedStore implements H2Sync.Store {
        final MVStore store;
        final AtomicInteger syncs = new AtomicInteger();
        private long coveredBelow;

        CountedStore(MVStore store) {
            this.store = store;
        }

        @Override
        public long currentVersion() {
            return store.getCurrentVersion();
        }

        @Override
        public void sync() {
            long covers = store.getCurrentVersion();
            store.sync();
            syncs.incrementAndGet();
            synchronized (this) {
                coveredBelow = Math.max(coveredBelow, covers);
            }
        }

        synchronized long coveredBelow() {
            return coveredBelow;
        }
    }

    private MVStore open() {
        return new MVStore.Builder().fileName(dir.resolve("sync.mv.db").toString()).autoCommitDisabled().open();
    }

    @Test
    void aCommitCostsOneFsyncAndACallAfterNoCommitNone() {
        try (MVStore store = open()) {
            CountedStore counted = new CountedStore(store);
            H2Sync sync = new H2Sync(counted);
            MVMap<Integer, Integer> map = store.openMap("m");
            map.put(1, 1);
            store.commit();
            sync.awaitDurable();
            assertThat(counted.syncs).hasValue(1);
            sync.awaitDurable();
            sync.awaitDurable();
            assertThat(counted.syncs).as("reads commit nothing").hasValue(1);
            map.put(2, 2);
            store.commit();
            sync.awaitDurable();
            assertThat(counted.syncs).hasValue(2);
        }
    }

    @Test
    void concurrentCommitsShareFsyncsAndEachReturnsOnlyOnceItsOwnIsOnTheDisk() throws Exception {
        int threads = 8;
        int commits = 200;
        try (MVStore store = open()) {
            CountedStore counted = new CountedStore(store);
            H2Sync sync = new H2Sync(counted);
            MVMap<Integer, Integer> map = store.openMap("m");
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> writers = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    writers.add(pool.submit(() -> {
                        for (int i = 0; i < commits; i++) {
                            map.put(thread * commits + i, i);
                            store.commit();
                            long mine = store.getCurrentVersion(); // this commit is in a lower version
                            sync.awaitDurable();
                            assertThat(counted.coveredBelow()).as("a finished fsync covers the commit")
                                    .isGreaterThanOrEqualTo(mine);
                        }
                        return null;
                    }));
                }
                for (Future<?> writer : writers) {
                    writer.get();
                }
            } finally {
                pool.shutdown();
            }
            assertThat(counted.syncs.get()).as("fsyncs shared between commits").isLessThan(threads * commits);
            assertThat(map).hasSize(threads * commits);
        }
    }
}
