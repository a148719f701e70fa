package io.coffre.store;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Wraps a real {@link BlobStore} and makes it fail the way stores do, in the manner of Lucene's
 * {@code MockDirectoryWrapper}: a chosen call fails ({@link #failNth}), calls fail at a rate
 * ({@link #failRandomly}), or the process "crashes" ({@link #crash}) with puts in flight. Without faults it passes
 * {@link BlobStoreContract}, so it can sit under any component's tests.
 *
 * <p>Every random choice comes from one {@link Random} seeded in the constructor, so a single-threaded caller sees
 * the same failures for the same seed. Injected failures are {@link UncheckedIOException}s, as real I/O errors are.
 * A failed put or delete may or may not have reached the store before failing (a lost acknowledgement is as real as
 * a refused request); callers must cope with both.
 */
public final class CrashingBlobStore implements BlobStore {
    /** The operations faults can be attached to. */
    public enum Op { PUT, GET, OPEN, EXISTS, DELETE, LIST }

    private enum Fault { NONE, BEFORE, AFTER }

    private enum PutState { HELD, RELEASED, LANDED, LOST }

    private static final class HeldPut {
        final String key;
        final byte[] data;
        PutState state = PutState.HELD;

        HeldPut(String key, byte[] data) {
            this.key = key;
            this.data = data;
        }
    }

    private final BlobStore delegate;
    private final Random random;
    private final Map<Op, Integer> calls = new EnumMap<>(Op.class);
    private final Map<Op, Set<Integer>> failingCalls = new EnumMap<>(Op.class);
    private final Map<Op, Double> failureRates = new EnumMap<>(Op.class);
    private final List<HeldPut> held = new ArrayList<>();
    private boolean holdingPuts;
    private volatile boolean crashed;
    private int injectedFailures;

    public CrashingBlobStore(BlobStore delegate, long seed) {
        this.delegate = delegate;
        this.random = new Random(seed);
    }

    /** The store underneath: what survives a {@link #crash}, for a "restarted" component to open. */
    public BlobStore delegate() {
        return delegate;
    }

    /** Makes the {@code n}-th call of {@code op} from now (1 = the next one) fail. */
    public synchronized CrashingBlobStore failNth(Op op, int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n counts calls from 1; got " + n);
        }
        failingCalls.computeIfAbsent(op, o -> new HashSet<>()).add(calls(op) + n);
        return this;
    }

    /** Makes each call of {@code op} fail with {@code probability}, drawn from the seeded random. */
    public synchronized CrashingBlobStore failRandomly(Op op, double probability) {
        if (probability < 0 || probability > 1) {
            throw new IllegalArgumentException("probability must be in [0, 1]; got " + probability);
        }
        failureRates.put(op, probability);
        return this;
    }

    /** Removes every planned and random failure (not a crash: see {@link #clearCrash}). */
    public synchronized CrashingBlobStore clearFailures() {
        failingCalls.clear();
        failureRates.clear();
        return this;
    }

    public synchronized int calls(Op op) {
        return calls.getOrDefault(op, 0);
    }

    public synchronized int injectedFailures() {
        return injectedFailures;
    }

    /** From now on every put stops in flight, before reaching the store, until {@link #releasePuts} or a crash. */
    public synchronized CrashingBlobStore holdPuts() {
        holdingPuts = true;
        return this;
    }

    /** Lets every held put proceed and stops holding new ones. */
    public synchronized void releasePuts() {
        holdingPuts = false;
        for (HeldPut put : held) {
            put.state = PutState.RELEASED;
        }
        held.clear();
        notifyAll();
    }

    /** Waits until at least {@code count} puts are held in flight. */
    public synchronized void awaitPutsInFlight(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (held.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException(held.size() + " puts in flight after " + timeout + ", wanted "
                        + count);
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * Simulates the process dying now. Each held put lands whole or not at all (seeded coin); puts running inside
     * the real store finish or not as that store's atomicity decides; every caller caught in flight gets an
     * exception, as a dead process would never see the return. Streams opened earlier fail on their next read, and
     * every call fails until {@link #clearCrash}.
     */
    public synchronized void crash() {
        crashed = true;
        for (HeldPut put : held) {
            if (random.nextBoolean()) {
                delegate.put(put.key, put.data);
                put.state = PutState.LANDED;
            } else {
                put.state = PutState.LOST;
            }
        }
        held.clear();
        holdingPuts = false;
        notifyAll();
    }

    /** The restart after a {@link #crash}: calls reach the store again (what survived it is what is there). */
    public synchronized void clearCrash() {
        crashed = false;
    }

    public boolean crashed() {
        return crashed;
    }

    @Override
    public void put(String key, byte[] data) {
        BlobStore.checkKey(key);
        Fault fault = enter(Op.PUT, key);
        if (fault == Fault.BEFORE) {
            throw injected(Op.PUT, key, "nothing was stored");
        }
        byte[] copy = data.clone();
        if (!waitWhileHeld(key, copy)) {
            delegate.put(key, copy);
        }
        failIfCrashed();
        if (fault == Fault.AFTER) {
            throw injected(Op.PUT, key, "the blob was stored before the failure");
        }
    }

    /** @return true if the put was settled by a crash (and so must not run) */
    private synchronized boolean waitWhileHeld(String key, byte[] data) {
        if (!holdingPuts) {
            return false;
        }
        HeldPut put = new HeldPut(key, data);
        held.add(put);
        notifyAll();
        try {
            while (put.state == PutState.HELD) {
                wait();
            }
        } catch (InterruptedException e) {
            held.remove(put);
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new InterruptedIOException("held put of " + key + " interrupted"));
        }
        return put.state != PutState.RELEASED;
    }

    @Override
    public Optional<byte[]> get(String key) {
        BlobStore.checkKey(key);
        failBefore(Op.GET, key);
        return delegate.get(key);
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        BlobStore.checkKey(key);
        failBefore(Op.OPEN, key);
        return new FilterInputStream(delegate.open(key, offset, length)) {
            @Override
            public int read() throws IOException {
                failIfCrashedChecked(key);
                return super.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                failIfCrashedChecked(key);
                return super.read(b, off, len);
            }
        };
    }

    @Override
    public boolean exists(String key) {
        BlobStore.checkKey(key);
        failBefore(Op.EXISTS, key);
        return delegate.exists(key);
    }

    @Override
    public void delete(String key) {
        BlobStore.checkKey(key);
        Fault fault = enter(Op.DELETE, key);
        if (fault == Fault.BEFORE) {
            throw injected(Op.DELETE, key, "nothing was deleted");
        }
        delegate.delete(key);
        if (fault == Fault.AFTER) {
            throw injected(Op.DELETE, key, "the blob was deleted before the failure");
        }
    }

    @Override
    public void list(String prefix, Consumer<String> keys) {
        BlobStore.checkPrefix(prefix);
        failBefore(Op.LIST, prefix);
        delegate.list(prefix, keys);
    }

    @Override
    public void close() {
        delegate.close();
    }

    private void failBefore(Op op, String what) {
        if (enter(op, what) != Fault.NONE) {
            throw injected(op, what, "before reaching the store");
        }
    }

    /** Counts the call and decides its fate; mutations may fail after taking effect. */
    private synchronized Fault enter(Op op, String what) {
        failIfCrashed();
        int n = calls(op) + 1;
        calls.put(op, n);
        Set<Integer> planned = failingCalls.get(op);
        boolean fails = planned != null && planned.remove(n)
                || random.nextDouble() < failureRates.getOrDefault(op, 0.0);
        if (!fails) {
            return Fault.NONE;
        }
        injectedFailures++;
        boolean mutation = op == Op.PUT || op == Op.DELETE;
        return mutation && random.nextBoolean() ? Fault.AFTER : Fault.BEFORE;
    }

    private UncheckedIOException injected(Op op, String what, String outcome) {
        return new UncheckedIOException(new IOException("injected failure of " + op + " " + what + " (" + outcome
                + ")"));
    }

    private void failIfCrashed() {
        if (crashed) {
            throw new UncheckedIOException(new IOException("blob store crashed; clearCrash() restarts it"));
        }
    }

    private void failIfCrashedChecked(String key) throws IOException {
        if (crashed) {
            throw new IOException("blob store crashed while " + key + " was open");
        }
    }
}
