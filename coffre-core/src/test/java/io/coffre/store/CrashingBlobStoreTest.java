package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.store.CrashingBlobStore.Op;
import java.io.InputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class CrashingBlobStoreTest {

    /** Without faults the wrapper is invisible. */
    @Nested
    class WithoutFaults extends BlobStoreContract {
        @Override
        protected BlobStore newStore() {
            return new CrashingBlobStore(new InMemoryBlobStore(), 1);
        }
    }

    @Test
    void theNthCallFailsAndNoOther() {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 7).failNth(Op.PUT, 3)
                .failNth(Op.GET, 2);
        store.put("k1", new byte[] {1});
        store.put("k2", new byte[] {2});
        assertThatThrownBy(() -> store.put("k3", new byte[] {3})).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("injected failure of PUT k3");
        store.put("k4", new byte[] {4});
        assertThat(store.get("k1")).isPresent();
        assertThatThrownBy(() -> store.get("k2")).isInstanceOf(UncheckedIOException.class);
        assertThat(store.get("k4")).hasValueSatisfying(b -> assertThat(b).containsExactly(4));
        assertThat(store.calls(Op.PUT)).isEqualTo(4);
        assertThat(store.injectedFailures()).isEqualTo(2);
        // a failed put either stored the whole blob or nothing
        assertThat(store.delegate().get("k3")).satisfiesAnyOf(
                v -> assertThat(v).isEmpty(),
                v -> assertThat(v).hasValueSatisfying(b -> assertThat(b).containsExactly(3)));
    }

    @Test
    void randomFailuresAreReproducibleFromTheSeed() {
        List<Boolean> first = getFailures(42);
        List<Boolean> again = getFailures(42);
        List<Boolean> other = getFailures(43);
        assertThat(again).isEqualTo(first);
        assertThat(other).isNotEqualTo(first);
        assertThat(first.stream().filter(failed -> failed).count()).isBetween(40L, 80L);
    }

    private static List<Boolean> getFailures(long seed) {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), seed).failRandomly(Op.GET, 0.3);
        List<Boolean> failed = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            try {
                store.get("k");
                failed.add(false);
            } catch (UncheckedIOException e) {
                failed.add(true);
            }
        }
        return failed;
    }

    @Test
    void aFailedPutSometimesStoredTheBlobAndNeverPartOfIt() {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 3).failRandomly(Op.PUT, 1.0);
        int stored = 0;
        for (int i = 0; i < 40; i++) {
            String key = "p" + i;
            byte[] content = SelfCheckingBlob.content(key, 1, 1000);
            assertThatThrownBy(() -> store.put(key, content)).isInstanceOf(UncheckedIOException.class);
            if (store.delegate().get(key).isPresent()) {
                assertThat(SelfCheckingBlob.check(key, store.delegate().get(key).get())).isEqualTo(1);
                stored++;
            }
        }
        assertThat(stored).as("lost acknowledgements and refused requests both happen").isBetween(1, 39);
    }

    @Test
    void clearFailuresStopsInjecting() {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 3).failRandomly(Op.EXISTS, 1.0);
        assertThatThrownBy(() -> store.exists("k")).isInstanceOf(UncheckedIOException.class);
        store.clearFailures();
        assertThat(store.exists("k")).isFalse();
    }

    @Test
    @Timeout(30)
    void aCrashSettlesEveryPutInFlightWholeOrNotAtAll() throws Exception {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 11).holdPuts();
        int writers = 20;
        ConcurrentLinkedQueue<Throwable> outcomes = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
            String key = "inflight/" + i;
            Thread t = new Thread(() -> {
                try {
                    store.put(key, SelfCheckingBlob.content(key, 1, 64 * 1024));
                    outcomes.add(new AssertionError("put of " + key + " returned across a crash"));
                } catch (UncheckedIOException e) {
                    outcomes.add(e);
                }
            });
            t.start();
            threads.add(t);
        }
        store.awaitPutsInFlight(writers, Duration.ofSeconds(20));
        store.crash();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(outcomes).hasSize(writers).allMatch(o -> o instanceof UncheckedIOException);

        List<String> survivors = new ArrayList<>();
        store.delegate().list("", survivors::add);
        for (String key : survivors) {
            assertThat(SelfCheckingBlob.check(key, store.delegate().get(key).orElseThrow())).as(key).isEqualTo(1);
        }
        assertThat(survivors.size()).as("with this seed some puts land and some are lost").isBetween(1, writers - 1);

        assertThatThrownBy(() -> store.get("inflight/0")).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("crashed");
        assertThatThrownBy(() -> store.put("after", new byte[1])).isInstanceOf(UncheckedIOException.class);
        store.clearCrash();
        List<String> afterRestart = new ArrayList<>();
        store.list("", afterRestart::add);
        assertThat(afterRestart).containsExactlyInAnyOrderElementsOf(survivors);
        store.put("after", new byte[1]);
        assertThat(store.exists("after")).isTrue();
    }

    @Test
    @Timeout(30)
    void releasedPutsComplete() throws Exception {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 5).holdPuts();
        Thread writer = new Thread(() -> store.put("held", new byte[] {1, 2}));
        writer.start();
        store.awaitPutsInFlight(1, Duration.ofSeconds(10));
        assertThat(store.delegate().exists("held")).isFalse();
        store.releasePuts();
        writer.join();
        assertThat(store.get("held")).hasValueSatisfying(b -> assertThat(b).containsExactly(1, 2));
        store.put("not-held", new byte[0]);
        assertThat(store.exists("not-held")).isTrue();
    }

    @Test
    void streamsOpenedBeforeACrashFailAfterIt() throws IOException {
        CrashingBlobStore store = new CrashingBlobStore(new InMemoryBlobStore(), 5);
        store.put("s", new byte[100]);
        try (InputStream in = store.open("s", 0, 100)) {
            assertThat(in.read()).isZero();
            store.crash();
            assertThatThrownBy(in::read).isInstanceOf(IOException.class).hasMessageContaining("crashed");
        }
    }

    @Test
    @Timeout(60)
    void aCrashDuringRealFilePutsLeavesOnlyWholeBlobs(@TempDir Path dir) throws Exception {
        CrashingBlobStore store = new CrashingBlobStore(BlobStores.fileSystem(dir), 9);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            Thread t = new Thread(() -> {
                try {
                    for (long g = 1; ; g++) {
                        String key = "w" + writer + "/k" + (g % 5);
                        store.put(key, SelfCheckingBlob.content(key, g, 512 * 1024 + (int) (g % 7) * 4096));
                    }
                } catch (UncheckedIOException expected) {
                    // the crash ends the writer, as it would end the process
                }
            });
            t.start();
            writers.add(t);
        }
        while (store.calls(Op.PUT) < 40) {
            Thread.sleep(1);
        }
        store.crash();
        for (Thread t : writers) {
            t.join();
        }
        List<String> keys = new ArrayList<>();
        try (BlobStore restarted = BlobStores.fileSystem(dir)) {
            restarted.list("", keys::add);
            assertThat(keys).isNotEmpty();
            for (String key : keys) {
                assertThat(SelfCheckingBlob.check(key, restarted.get(key).orElseThrow())).as(key).isPositive();
            }
        }
    }
}
