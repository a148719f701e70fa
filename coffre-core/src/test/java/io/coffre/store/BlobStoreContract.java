package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@link BlobStore} contract, run against every implementation: a store's test extends this class and
 * supplies {@link #newStore()}. Each test gets a fresh, empty store.
 */
public abstract class BlobStoreContract {
    private static final int MIB = 1 << 20;

    protected BlobStore store;

    /** A new, empty store; called once per test. */
    protected abstract BlobStore newStore();

    /** Removes whatever {@link #newStore()} left behind, after the store was closed. */
    protected void cleanup(BlobStore closed) {
    }

    @BeforeEach
    final void openStore() {
        store = newStore();
    }

    @AfterEach
    final void closeStore() {
        store.close();
        cleanup(store);
    }

    // ---- put / get ----

    @Test
    void emptyBlobRoundTrips() {
        store.put("a/empty", new byte[0]);
        assertThat(store.get("a/empty")).hasValueSatisfying(b -> assertThat(b).isEmpty());
        assertThat(store.exists("a/empty")).isTrue();
    }

    @Test
    void oneByteRoundTrips() {
        store.put("one", new byte[] {(byte) 0xff});
        assertThat(store.get("one")).hasValueSatisfying(b -> assertThat(b).containsExactly((byte) 0xff));
    }

    @Test
    void severalMebibytesRoundTrip() {
        byte[] data = random(5 * MIB + 17, 1);
        store.put("big/blob", data);
        assertThat(store.get("big/blob")).hasValueSatisfying(b -> assertThat(b).isEqualTo(data));
    }

    @Test
    void everyByteValueRoundTrips() {
        byte[] data = new byte[512];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) i;
        }
        store.put("bytes", data);
        assertThat(store.get("bytes")).hasValueSatisfying(b -> assertThat(b).isEqualTo(data));
    }

    @Test
    void putTakesACopyAndGetHandsOutACopy() {
        byte[] data = {1, 2, 3};
        store.put("copy", data);
        data[0] = 9;
        byte[] read = store.get("copy").orElseThrow();
        read[1] = 9;
        assertThat(store.get("copy")).hasValueSatisfying(b -> assertThat(b).containsExactly(1, 2, 3));
    }

    @Test
    void overwriteReplacesTheWholeObject() {
        store.put("k", random(1000, 1));
        byte[] shorter = random(10, 2);
        store.put("k", shorter);
        assertThat(store.get("k")).hasValueSatisfying(b -> assertThat(b).isEqualTo(shorter));
    }

    @Test
    @Timeout(60)
    void readersSeeTheOldOrTheNewObjectNeverAMix() throws Exception {
        // Generation g is (g % 7 + 1) * 64 KiB of the byte g: a torn read shows a wrong length or a mixed fill.
        store.put("hot", generation(0));
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicInteger reads = new AtomicInteger();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Thread reader = new Thread(() -> {
                while (!done.get()) {
                    byte[] seen = store.get("hot").orElse(null);
                    String problem = seen == null ? "object vanished during overwrite" : tornGeneration(seen);
                    if (problem == null) {
                        problem = checkRangedRead();
                    }
                    if (problem != null) {
                        problems.add(problem);
                        return;
                    }
                    reads.incrementAndGet();
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (int g = 1; g <= 200 && problems.isEmpty(); g++) {
            store.put("hot", generation(g));
        }
        done.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        assertThat(problems).isEmpty();
        assertThat(reads.get()).isPositive();
        assertThat(tornGeneration(store.get("hot").orElseThrow())).isNull();
    }

    /** A ranged read of the first 64 KiB (present in every generation) must be one generation's bytes. */
    private String checkRangedRead() {
        byte[] head = readRange("hot", 0, 64 * 1024);
        for (byte b : head) {
            if (b != head[0]) {
                return "ranged read mixed generations " + head[0] + " and " + b;
            }
        }
        return null;
    }

    private static byte[] generation(int g) {
        byte[] data = new byte[(g % 7 + 1) * 64 * 1024];
        Arrays.fill(data, (byte) g);
        return data;
    }

    private static String tornGeneration(byte[] seen) {
        if (seen.length == 0) {
            return "empty object seen during overwrite";
        }
        int g = seen[0] & 0xff;
        if (seen.length != (g % 7 + 1) * 64 * 1024) {
            return "generation " + g + " seen with " + seen.length + " bytes";
        }
        for (byte b : seen) {
            if (b != seen[0]) {
                return "generation " + g + " mixed with " + (b & 0xff);
            }
        }
        return null;
    }

    // ---- missing keys, delete, exists ----

    @Test
    void missingKeyIsEmptyNotAnError() {
        assertThat(store.get("no/such/blob")).isEmpty();
        assertThat(store.exists("no/such/blob")).isFalse();
    }

    @Test
    void deleteRemovesAndIsIdempotent() {
        store.put("d/x", new byte[] {1});
        store.delete("d/x");
        assertThat(store.get("d/x")).isEmpty();
        assertThat(store.exists("d/x")).isFalse();
        store.delete("d/x");
        store.delete("never/stored");
        assertThat(keys("")).isEmpty();
    }

    @Test
    void deleteLeavesSiblingsAlone() {
        store.put("d/x", new byte[] {1});
        store.put("d/y", new byte[] {2});
        store.delete("d/x");
        assertThat(store.get("d/y")).hasValueSatisfying(b -> assertThat(b).containsExactly(2));
        assertThat(keys("")).containsExactly("d/y");
    }

    /**
     * Puts and deletes of keys that share a prefix, at once: in a file store each put creates the directory that
     * a delete of its last blob removes, and the two must not trip over each other.
     */
    @Test
    @Timeout(60)
    void putsAndDeletesSharingAPrefixRaceWithoutFailing() throws Exception {
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int owner = t;
                running.add(pool.submit(() -> {
                    for (int i = 0; i < 1000; i++) {
                        String key = "race/shared/" + owner + "-" + i;
                        store.put(key, new byte[] {(byte) i});
                        store.delete(key);
                    }
                    return null;
                }));
            }
            for (Future<?> thread : running) {
                thread.get(50, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(keys("race/")).isEmpty();
    }

    @Test
    void aKeyCanBeStoredAgainAfterItsDirectoryEmptied() {
        store.put("p/q/r", new byte[] {1});
        store.delete("p/q/r");
        store.put("p/q", new byte[] {2});
        assertThat(store.get("p/q")).hasValueSatisfying(b -> assertThat(b).containsExactly(2));
        assertThat(keys("p")).containsExactly("p/q");
    }

    @Test
    void aPrefixOfStoredKeysIsNotItselfABlob() {
        store.put("dir/sub/leaf", new byte[] {1});
        for (String notABlob : List.of("dir", "dir/sub")) {
            assertThat(store.exists(notABlob)).as(notABlob).isFalse();
            assertThat(store.get(notABlob)).as(notABlob).isEmpty();
            assertThatThrownBy(() -> store.open(notABlob, 0, 0)).as(notABlob)
                    .isInstanceOf(BlobNotFoundException.class);
            store.delete(notABlob);
        }
        assertThat(store.exists("dir/sub/leaf")).isTrue();
    }

    @Test
    void existsFollowsPutAndDelete() {
        assertThat(store.exists("e")).isFalse();
        store.put("e", new byte[0]);
        assertThat(store.exists("e")).isTrue();
        store.delete("e");
        assertThat(store.exists("e")).isFalse();
    }

    // ---- ranged reads ----

    @Test
    void rangedReadsReturnExactlyTheRange() {
        byte[] data = random(3 * MIB + 5, 3);
        store.put("r", data);
        int n = data.length;
        assertThat(readRange("r", 0, 100)).isEqualTo(Arrays.copyOfRange(data, 0, 100));
        assertThat(readRange("r", MIB - 3, 2 * MIB)).isEqualTo(Arrays.copyOfRange(data, MIB - 3, 3 * MIB - 3));
        assertThat(readRange("r", n - 100, 100)).isEqualTo(Arrays.copyOfRange(data, n - 100, n));
        assertThat(readRange("r", 0, n)).isEqualTo(data);
        assertThat(readRange("r", 0, 0)).isEmpty();
        assertThat(readRange("r", 1234, 0)).isEmpty();
        assertThat(readRange("r", n, 0)).isEmpty();
    }

    @Test
    void rangedReadByteByByteStopsAtTheEndOfTheRange() throws IOException {
        store.put("r", new byte[] {10, 11, 12, 13, 14});
        try (InputStream in = store.open("r", 1, 3)) {
            assertThat(in.read()).isEqualTo(11);
            assertThat(in.read()).isEqualTo(12);
            assertThat(in.read()).isEqualTo(13);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void rangedReadOutsideTheBlobIsRefused() {
        store.put("r", new byte[100]);
        assertThatThrownBy(() -> store.open("r", 95, 10)).isInstanceOf(BlobNotFoundException.class);
        assertThatThrownBy(() -> store.open("r", 101, 0)).isInstanceOf(BlobNotFoundException.class);
        assertThatThrownBy(() -> store.open("r", 0, 101)).isInstanceOf(BlobNotFoundException.class);
        assertThatThrownBy(() -> store.open("r", 1, Long.MAX_VALUE)).isInstanceOf(BlobNotFoundException.class);
        assertThatThrownBy(() -> store.open("r", Long.MAX_VALUE, 1)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void negativeRangeIsAProgrammingError() {
        store.put("r", new byte[100]);
        assertThatThrownBy(() -> store.open("r", -1, 10)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.open("r", 0, -1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rangedReadOfAMissingBlobIsNotFound() {
        assertThatThrownBy(() -> store.open("missing", 0, 0)).isInstanceOf(BlobNotFoundException.class);
        store.put("gone", new byte[10]);
        store.delete("gone");
        assertThatThrownBy(() -> store.open("gone", 0, 1)).isInstanceOf(BlobNotFoundException.class);
    }

    @Test
    void anOpenRangeKeepsReadingTheObjectItOpened() throws IOException {
        byte[] first = random(MIB, 4);
        store.put("snap", first);
        try (InputStream in = store.open("snap", 0, first.length)) {
            byte[] start = in.readNBytes(1000);
            store.put("snap", random(MIB, 5));
            byte[] rest = in.readAllBytes();
            byte[] whole = new byte[start.length + rest.length];
            System.arraycopy(start, 0, whole, 0, start.length);
            System.arraycopy(rest, 0, whole, start.length, rest.length);
            assertThat(whole).isEqualTo(first);
        }
    }

    // ---- list ----

    @Test
    void listOfAnEmptyStoreCallsNothing() {
        assertThat(keys("")).isEmpty();
        assertThat(keys("a/")).isEmpty();
    }

    @Test
    void listFindsEachKeyUnderThePrefixExactlyOnce() {
        List<String> all = List.of("a/1", "a/2", "a/b/1", "a/b/c/1", "a/bc/1", "ab/1", "b/1", "top");
        for (String key : all) {
            store.put(key, key.getBytes());
        }
        assertThat(keys("")).containsExactlyInAnyOrderElementsOf(all);
        assertThat(keys("a/")).containsExactlyInAnyOrder("a/1", "a/2", "a/b/1", "a/b/c/1", "a/bc/1");
        assertThat(keys("a/b/")).containsExactlyInAnyOrder("a/b/1", "a/b/c/1");
        assertThat(keys("a/b")).containsExactlyInAnyOrder("a/b/1", "a/b/c/1", "a/bc/1");
        assertThat(keys("a")).containsExactlyInAnyOrder("a/1", "a/2", "a/b/1", "a/b/c/1", "a/bc/1", "ab/1");
        assertThat(keys("a/b/c/1")).containsExactly("a/b/c/1");
        assertThat(keys("t")).containsExactly("top");
        assertThat(keys("c")).isEmpty();
        assertThat(keys("a/b/c/1/")).isEmpty();
        assertThat(keys("zz/")).isEmpty();
    }

    @Test
    void listDoesNotShowDeletedKeys() {
        store.put("l/1", new byte[1]);
        store.put("l/2", new byte[1]);
        store.delete("l/1");
        assertThat(keys("l/")).containsExactly("l/2");
    }

    @Test
    @Timeout(60)
    void listDuringPutsAndDeletesShowsStableKeysOnceAndNothingHalfWritten() throws Exception {
        Set<String> stable = IntStream.range(0, 50).mapToObj(i -> "c/stable" + i).collect(Collectors.toSet());
        for (String key : stable) {
            store.put(key, new byte[] {1});
        }
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch writerStarted = new CountDownLatch(1);
        Thread writer = new Thread(() -> {
            byte[] data = random(256 * 1024, 6);
            for (int i = 0; !done.get(); i++) {
                store.put("c/churn" + (i % 20), data);
                store.put("c/sub" + (i % 5) + "/churn" + (i % 20), data);
                store.delete("c/churn" + ((i + 10) % 20));
                store.delete("c/sub" + ((i + 2) % 5) + "/churn" + ((i + 10) % 20));
                writerStarted.countDown();
            }
        });
        writer.start();
        try {
            assertThat(writerStarted.await(30, TimeUnit.SECONDS)).isTrue();
            for (int round = 0; round < 30; round++) {
                List<String> seen = keys("c/");
                Map<String, Integer> counts = new HashMap<>();
                seen.forEach(k -> counts.merge(k, 1, Integer::sum));
                assertThat(counts).allSatisfy((key, count) -> {
                    assertThat(count).as("times %s was listed", key).isEqualTo(1);
                    assertThat(key).matches("c/(stable\\d+|churn\\d+|sub\\d/churn\\d+)");
                });
                assertThat(counts.keySet()).containsAll(stable);
            }
        } finally {
            done.set(true);
            writer.join();
        }
    }

    @Test
    @Timeout(120)
    void manyKeysAreAllListed() throws Exception {
        // more than one page of an object store's listing (1000 keys); put in parallel, as fsyncs dominate
        int count = 1500;
        List<String> all = IntStream.range(0, count).mapToObj(i -> "many/" + (i % 7) + "/" + (i % 13) + "/k" + i)
                .toList();
        inParallel(all, key -> store.put(key, new byte[] {42}));
        assertThat(keys("many/")).hasSize(count).containsExactlyInAnyOrderElementsOf(all);
        assertThat(keys("many/3/")).containsExactlyInAnyOrderElementsOf(
                all.stream().filter(k -> k.startsWith("many/3/")).toList());
        List<String> even = IntStream.range(0, count).filter(i -> i % 2 == 0).mapToObj(all::get).toList();
        inParallel(even, store::delete);
        assertThat(keys("many/")).hasSize(count / 2).doesNotContainAnyElementsOf(even);
    }

    private static void inParallel(List<String> keys, Consumer<String> action) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (String key : keys) {
                done.add(pool.submit(() -> action.accept(key)));
            }
            for (Future<?> f : done) {
                f.get(100, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    // ---- key validation ----

    @ParameterizedTest
    @ValueSource(strings = {"", "..", ".", "../x", "a/../b", "a/..", "/a", "/", "a/", "a//b", "a/./b", "a b", " a",
        "a\\b", "a~b", "a:b", "ä", "a\nb", "a\u0000b"})
    void invalidKeysAreRefusedByEveryOperation(String key) {
        assertThatThrownBy(() -> store.put(key, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(key)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.exists(key)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.delete(key)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.open(key, 0, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThat(keys("")).isEmpty();
    }

    @Test
    void nullKeyIsRefused() {
        assertThatThrownBy(() -> store.put(null, new byte[1])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.get(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"../", "/", "/a", "a//", "a/../", "a/./", "a b", "a~"})
    void invalidPrefixesAreRefused(String prefix) {
        assertThatThrownBy(() -> store.list(prefix, k -> { })).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyAllowedCharacterWorks() {
        String key = "AZaz09._-/..x/x..";
        store.put(key, new byte[] {7});
        assertThat(store.get(key)).hasValueSatisfying(b -> assertThat(b).containsExactly(7));
        assertThat(keys("AZ")).containsExactly(key);
    }

    // ---- helpers for subclasses and tests ----

    protected final List<String> keys(String prefix) {
        List<String> keys = new ArrayList<>();
        Consumer<String> collect = keys::add;
        store.list(prefix, collect);
        return keys;
    }

    protected final byte[] readRange(String key, long offset, long length) {
        try (InputStream in = store.open(key, offset, length)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    protected static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new Random(seed).nextBytes(data);
        return data;
    }
}
