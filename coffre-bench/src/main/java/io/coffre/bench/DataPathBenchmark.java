package io.coffre.bench;

import io.coffre.CoffreCore;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.nbd.ExportRegistry;
import io.coffre.compute.nbd.NbdServer;
import io.coffre.json.Json;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * Throughput of Coffre's disk data paths against a durable copy of the same bytes on the same file system, in one
 * run, as ratios: (a) the baseline, a file copy fsynced at the end (and a variant fsyncing every 4 MiB);
 * (b) upload over HTTPS (beginGetAccess Write, 4 MiB page PUTs, several in flight as azcopy sends them,
 * endGetAccess); (c) download over HTTPS (parallel ranged GETs, each compared with the image); (d) NBD with the
 * real {@code nbdcopy} at its defaults, writing the image into a disk exported by an in-process {@link NbdServer}
 * (timed until the disconnect flush made it durable) and reading it back into a file (SHA-256 checked); (e) once
 * per run, a guest's fsync: 4 KiB writes each followed by a FLUSH, sent by the real {@code qemu-io}, against 4 KiB
 * writes each followed by an fdatasync of a file.
 *
 * <p>The server is real (HTTPS, H2, encrypted block objects in files) on a fresh temporary data directory; the disk
 * is platform-key encrypted. The image is incompressible pseudo-random data, generated once before any timing.
 *
 * <p>One run on this 2-core machine is noisy (the baseline alone swung between 300 and 1,400 MB/s, and a path run
 * right after another path pays the JIT's recompilation), so every path runs {@code --rounds} times, interleaved
 * with the baseline, and the table shows each path's median round with the range of its per-round ratios.
 *
 * <p>Run: {@code coffre-bench/run-data-path-benchmark.sh [--size 2GiB] [--parallel 8] [--rounds 3]
 * [--warm-up-requests 2000]}. Throws when a read-back differs from the image, so a smoke test can run it small.
 */
public final class DataPathBenchmark {
    static final int PAGE_BYTES = 4 << 20;
    /** Each round's first results: the durable copies, fsynced at the end and every 4 MiB. */
    private static final int BASELINES = 2;
    private static final int REQUESTS_PER_CONNECTION = 100;
    /**
     * Requests in flight by default: what {@code coffre disk upload / download} keep, and the Azure Storage .NET
     * SDK's default upload concurrency on 2 cores (twice the cores, kept within 8-32).
     */
    private static final int DEFAULT_IN_FLIGHT = 8;
    private static final String API = "?api-version=2026-03-02";
    private static final String GROUP = "bench";
    private static final String EXPORT = "bench-disk";
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(|B|KiB|MiB|GiB)", Pattern.CASE_INSENSITIVE);

    /**
     * One measured path: the bytes it moved, how long it took, the CPU time server and client spent meanwhile (this
     * JVM, plus nbdcopy), the client's part of it (the HTTPS client's threads, or nbdcopy) and the JIT compilers'
     * time. CPU per GiB tells the paths apart even when other work loads the machine.
     */
    public record Result(String path, long bytes, double seconds, double cpuSeconds, double clientCpuSeconds,
                         double compilerSeconds) {
        double megabytesPerSecond() {
            return bytes / seconds / 1e6;
        }

        double serverCpuSecondsPerGib() {
            return (cpuSeconds - clientCpuSeconds) / bytes * (1L << 30);
        }

        /**
         * The most this path could move with every core of the machine busy on it alone at the CPU it took per
         * byte: the bound a faster disk cannot lift.
         */
        double cpuCeilingMegabytesPerSecond(int cores) {
            return cores * bytes / cpuSeconds / 1e6;
        }

        double clientCpuSecondsPerGib() {
            return clientCpuSeconds / bytes * (1L << 30);
        }

        double compilerShare() {
            return compilerSeconds / seconds;
        }
    }

    /**
     * Wall time, this JVM's CPU time, the CPU time of the child processes it has waited for (nbdcopy: the kernel
     * adds a child's time to its parent's when the parent reaps it) and the JIT's time, from a start.
     */
    private record Stopwatch(long wallNanos, long cpuNanos, long childrenCpuNanos, long compilerMillis) {
        /** The unit of {@code /proc/self/stat}'s times, fixed by the kernel's ABI whatever its tick rate. */
        private static final long NANOS_PER_USER_HZ_TICK = 10_000_000;

        static Stopwatch start() {
            return new Stopwatch(System.nanoTime(), processCpuNanos(), childCpuNanos(), compilationMillis());
        }

        Result result(String path, long bytes) {
            return result(path, bytes, 0);
        }

        /**
         * @param clientThreadsCpuNanos CPU time of this JVM's HTTPS client threads; the time of reaped child
         *                              processes counts as client time too
         */
        Result result(String path, long bytes, long clientThreadsCpuNanos) {
            long children = childCpuNanos() - childrenCpuNanos;
            return new Result(path, bytes, (System.nanoTime() - wallNanos) / 1e9,
                    (processCpuNanos() - cpuNanos + children) / 1e9, (clientThreadsCpuNanos + children) / 1e9,
                    (compilationMillis() - compilerMillis) / 1e3);
        }

        static long threadCpuNanos() {
            return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        }

        private static long processCpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime();
        }

        /** cutime + cstime of {@code /proc/self/stat}, or 0 where there is no such file. */
        private static long childCpuNanos() {
            try {
                String stat = Files.readString(Path.of("/proc/self/stat"));
                // fields after the command name, which may hold spaces: state is field 3, cutime 16, cstime 17
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(fields[13]) + Long.parseLong(fields[14])) * NANOS_PER_USER_HZ_TICK;
            } catch (IOException e) {
                return 0;
            }
        }
    }

    private DataPathBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        long size = 2L << 30;
        int parallel = DEFAULT_IN_FLIGHT;
        int rounds = 3;
        int warmUpRequests = 2_000;
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--size" -> size = parseSize(args[i + 1]);
                case "--parallel" -> parallel = Integer.parseInt(args[i + 1]);
                case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
                case "--warm-up-requests" -> warmUpRequests = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --size 2GiB --parallel 8 --rounds 3 --warm-up-requests 2000");
            }
        }
        if (size <= 0 || size % 512 != 0) {
            throw new IllegalArgumentException("--size must be a positive multiple of 512 bytes, got " + size);
        }
        if (parallel < 1 || parallel > 32) {
            throw new IllegalArgumentException("--parallel must be 1..32");
        }
        if (rounds < 1 || rounds > 20) {
            throw new IllegalArgumentException("--rounds must be 1..20");
        }
        if (warmUpRequests < 0) {
            throw new IllegalArgumentException("--warm-up-requests must not be negative");
        }
        run(size, parallel, rounds, warmUpRequests);
    }

    /**
     * Runs every path {@code rounds} times and prints each path's median round; returns those, baseline first.
     */
    public static List<Result> run(long size, int parallel, int rounds, int warmUpRequests) throws Exception {
        Path work = Files.createTempDirectory("coffre-datapath-bench");
        Path dataDir = Files.createDirectories(work.resolve("data"));
        Path image = work.resolve("image.raw");
        System.out.printf(Locale.ROOT, "Data path, %s image, %d in flight, %d rounds, %d cores, load average %.2f%n",
                human(size), parallel, rounds, Runtime.getRuntime().availableProcessors(), loadAverage());
        try {
            byte[] imageSha = generateImage(image, size);
            List<List<Result>> byRound = new ArrayList<>();
            try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(0))) {
                Arm arm = new Arm(server);
                warmUp(arm, server.core(), image, imageSha, size, parallel, work);
                warmUpRequests(arm, parallel, warmUpRequests);
                for (int round = 0; round < rounds; round++) {
                    List<Result> results = new ArrayList<>();
                    results.add(durableCopy(image, dataDir.resolve("baseline-copy.raw"), false));
                    results.add(durableCopy(image, dataDir.resolve("baseline-copy.raw"), true));
                    results.addAll(https(arm, image, size, parallel));
                    results.addAll(nbd(arm, server.core(), image, size, imageSha, work));
                    byRound.add(results);
                }
                syncedSmallWrites(arm, server.core(), work.resolve("synced-writes.raw"));
            }
            return print(byRound);
        } finally {
            deleteRecursively(work);
        }
    }

    /**
     * Runs every Coffre path once, untimed, on the whole image: a server that has been up a while has its code
     * compiled for the sizes it serves. A warm-up on a quarter of the image left the JIT busy for 9-12 % of the
     * measured upload (recompiling for 4 MiB blocks and 2 GiB runs), against 4 % after a full-size one.
     */
    private static void warmUp(Arm arm, CoffreCore core, Path image, byte[] imageSha, long size, int parallel,
                               Path work) throws Exception {
        https(arm, image, size, parallel);
        nbd(arm, core, image, size, imageSha, work);
    }

    /**
     * Code run once per request (HTTP parsing, TLS records, routing, the grant check, the block map's commit) reaches
     * the JIT's top tier only after thousands of requests. A 2 GiB run makes 512 page requests a way, so without
     * this its own time would pay for compiling that code, which a server up for a while has long done. Batches of
     * small whole-block pages go up to and down from a 64 KiB disk until a batch spends under 5 % of its time in the
     * compiler (at most 12 batches); what each batch cost is printed.
     */
    private static void warmUpRequests(Arm arm, int parallel, int requests) throws Exception {
        int pageBytes = 64 << 10;
        byte[] page = new byte[pageBytes];
        new SplittableRandom(pageBytes).nextBytes(page);
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        try {
            for (int batch = 1; requests > 0 && batch <= 12; batch++) {
                String disk = arm.createUploadDisk("warm-up-requests-" + batch, pageBytes);
                long compiling = compilationMillis();
                long started = System.nanoTime();
                String writeSas = arm.grantAccess(disk, "Write");
                inParallel(pool, parallel, requests, last -> arm.putPage(writeSas, 0, page, pageBytes, last));
                arm.revokeAccess(disk);
                String readSas = arm.grantAccess(disk, "Read");
                inParallel(pool, parallel, requests, last -> {
                    if (!Arrays.equals(arm.getRange(readSas, 0, pageBytes, last), page)) {
                        throw new IllegalStateException("a warm-up page read back different bytes");
                    }
                });
                arm.revokeAccess(disk);
                arm.delete(disk);
                double seconds = (System.nanoTime() - started) / 1e9;
                double jitShare = (compilationMillis() - compiling) / 1e3 / seconds;
                System.out.printf(Locale.ROOT, "warm-up batch %d: %d page PUTs and %d ranged GETs in %.1f s, "
                        + "compiler busy %.0f %% of it%n", batch, requests, requests, seconds, 100 * jitShare);
                if (jitShare < 0.05) {
                    break;
                }
            }
        } finally {
            pool.shutdown();
        }
    }

    private interface Request {
        /** @param lastOnConnection whether to close the connection after this request */
        void send(boolean lastOnConnection) throws Exception;
    }

    /**
     * Sends {@code count} requests from {@code parallel} threads of the pool and waits for all of them. Every
     * {@value #REQUESTS_PER_CONNECTION}th request of a thread closes its connection, so the next one opens a new
     * one: a server up for a while has handled many a handshake and close, and the first ones it sees make the JIT
     * throw away much of the compiled TLS and HTTP code (new classes and branches) and compile it again.
     */
    private static void inParallel(ExecutorService pool, int parallel, int count, Request request) throws Exception {
        AtomicInteger left = new AtomicInteger(count);
        List<Future<?>> senders = new ArrayList<>();
        for (int t = 0; t < parallel; t++) {
            senders.add(pool.submit(() -> {
                for (int sent = 1; left.getAndDecrement() > 0; sent++) {
                    request.send(sent % REQUESTS_PER_CONNECTION == 0);
                }
                return null;
            }));
        }
        for (Future<?> sender : senders) {
            sender.get();
        }
    }

    /** Time the JIT compilers have spent so far (summed over compiler threads). */
    private static long compilationMillis() {
        return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }

    /** (a) Copies the image with 4 MiB reads and writes and fsyncs at the end (or after every write). */
    private static Result durableCopy(Path image, Path copy, boolean fsyncEachWrite) throws IOException {
        long size = Files.size(image);
        ByteBuffer buffer = ByteBuffer.allocateDirect(PAGE_BYTES);
        Stopwatch started = Stopwatch.start();
        try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(copy, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            while (in.read(buffer) > 0 || buffer.position() > 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                buffer.clear();
                if (fsyncEachWrite) {
                    out.force(false);
                }
            }
            out.force(true);
        }
        Result result = started.result(fsyncEachWrite ? "file copy, fsync every 4 MiB" : "file copy, fsync at end",
                size);
        Files.delete(copy);
        return result;
    }

    /**
     * (b) and (c): upload the image to a new disk, then download it and compare. The client reads the image through
     * a memory map and each thread reuses one page buffer: a client that read into a fresh array through the JDK's
     * copy would spend the cores it shares with the server on work azcopy does not do.
     */
    private static List<Result> https(Arm arm, Path image, long size, int parallel) throws Exception {
        String disk = arm.createUploadDisk("upload-disk", size);
        String writeSas = arm.grantAccess(disk, "Write");
        MappedImage mapped = MappedImage.of(image);
        ExecutorService pool = Executors.newFixedThreadPool(parallel);
        List<Result> results = new ArrayList<>();
        try {
            AtomicLong clientCpu = new AtomicLong();
            Stopwatch started = Stopwatch.start();
            eachPage(pool, parallel, size, clientCpu, (offset, page, length) -> {
                mapped.copy(offset, page, length);
                arm.putPage(writeSas, offset, page, length);
            });
            arm.revokeAccess(disk);
            results.add(started.result("upload over HTTPS (4 MiB pages)", size, clientCpu.get()));

            String readSas = arm.grantAccess(disk, "Read");
            clientCpu.set(0);
            started = Stopwatch.start();
            // each range is compared with the image's bytes: as exact as a SHA-256 of the stream and far cheaper
            // for the cores the client shares with the server
            eachPage(pool, parallel, size, clientCpu, (offset, page, length) -> {
                arm.getRange(readSas, offset, page, length);
                if (!mapped.matches(offset, page, length)) {
                    throw new IllegalStateException("download over HTTPS: the range at " + offset
                            + " differs from the image");
                }
            });
            results.add(started.result("download over HTTPS (parallel ranged GETs)", size, clientCpu.get()));
            arm.revokeAccess(disk);
        } finally {
            pool.shutdown();
        }
        arm.delete(disk);
        return results;
    }

    private interface PageWork {
        void run(long offset, byte[] page, int length) throws Exception;
    }

    /** Runs {@code work} on every page of the image from {@code parallel} threads; adds their CPU time. */
    private static void eachPage(ExecutorService pool, int parallel, long size, AtomicLong cpu, PageWork work)
            throws Exception {
        long pages = (size + PAGE_BYTES - 1) / PAGE_BYTES;
        AtomicLong next = new AtomicLong();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < parallel; t++) {
            workers.add(pool.submit(() -> {
                long started = Stopwatch.threadCpuNanos();
                byte[] page = new byte[PAGE_BYTES];
                for (long index; (index = next.getAndIncrement()) < pages; ) {
                    long offset = index * PAGE_BYTES;
                    work.run(offset, page, (int) Math.min(PAGE_BYTES, size - offset));
                }
                cpu.addAndGet(Stopwatch.threadCpuNanos() - started);
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
    }

    /** The image mapped read-only, in regions of whole pages (a mapping holds at most 2 GiB). */
    private record MappedImage(List<MappedByteBuffer> regions) {
        private static final long REGION_BYTES = 256L * PAGE_BYTES;

        static MappedImage of(Path image) throws IOException {
            List<MappedByteBuffer> regions = new ArrayList<>();
            try (FileChannel in = FileChannel.open(image, StandardOpenOption.READ)) {
                long size = in.size();
                for (long at = 0; at < size; at += REGION_BYTES) {
                    regions.add(in.map(FileChannel.MapMode.READ_ONLY, at, Math.min(REGION_BYTES, size - at)));
                }
            }
            return new MappedImage(regions);
        }

        void copy(long offset, byte[] target, int length) {
            region(offset).get(target, 0, length);
        }

        boolean matches(long offset, byte[] actual, int length) {
            return region(offset).limit(length).mismatch(ByteBuffer.wrap(actual, 0, length)) < 0;
        }

        /** The image from {@code offset} (a page's start) to the page's end, as a buffer of its own. */
        private ByteBuffer region(long offset) {
            MappedByteBuffer region = regions.get((int) (offset / REGION_BYTES));
            int at = (int) (offset % REGION_BYTES);
            return region.slice(at, Math.min(PAGE_BYTES, region.capacity() - at));
        }
    }

    /** (d) nbdcopy into an NBD export of a new disk, then out of it into a file. */
    private static List<Result> nbd(Arm arm, CoffreCore core, Path image, long size, byte[] imageSha, Path work)
            throws Exception {
        if (!onPath("nbdcopy")) {
            System.out.println("nbdcopy is not installed (Debian package libnbd-bin): NBD paths not measured");
            return List.of();
        }
        String disk = arm.createUploadDisk("nbd-disk", size);
        String storeId = arm.storeId(disk);
        Exports exports = new Exports(EXPORT, core, storeId);
        List<Result> results = new ArrayList<>();
        try (NbdServer server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), exports)) {
            String uri = "nbd://127.0.0.1:" + server.port() + "/" + EXPORT;
            Stopwatch started = Stopwatch.start();
            exec("nbdcopy", image.toString(), uri);
            // nbdcopy sends no FLUSH: its writes are durable once the server flushed them on disconnect
            exports.awaitAllClosed();
            results.add(started.result("nbdcopy -> NBD export (durable on disconnect)", size));

            Path out = work.resolve("nbd-out.raw");
            started = Stopwatch.start();
            exec("nbdcopy", uri, out.toString());
            Result read = started.result("nbdcopy <- NBD export (into a file)", size);
            exports.awaitAllClosed();
            requireSame("nbdcopy read-back", sha256(out), imageSha);
            Files.delete(out);
            results.add(read);
        }
        arm.delete(disk);
        return results;
    }

    /**
     * (e) Writes of 4 KiB at scattered offsets of a 64 MiB region, each made durable before the next: with
     * {@code qemu-io} over NBD (write, then FLUSH) and, as the baseline, on a file of this file system (write, then
     * fdatasync). qemu-io's start and handshake are taken out by timing a short run too. Prints writes per second and
     * their ratio; throws if the disk does not hold the last write of each offset.
     */
    private static void syncedSmallWrites(Arm arm, CoffreCore core, Path file) throws Exception {
        int writes = 400;
        int warmUp = 20;
        long region = 64L << 20;
        long[] offsets = new SplittableRandom(writes).longs(writes, 0, region / 4096).map(i -> i * 4096).toArray();
        byte[] page = new byte[4096];
        double fileSeconds;
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write(ByteBuffer.wrap(page), region - page.length);
            out.force(true);
            long started = System.nanoTime();
            for (int i = 0; i < writes; i++) {
                Arrays.fill(page, (byte) (i % 251));
                out.write(ByteBuffer.wrap(page), offsets[i]);
                out.force(false);
            }
            fileSeconds = (System.nanoTime() - started) / 1e9;
        }
        Files.delete(file);
        if (!onPath("qemu-io")) {
            System.out.println("qemu-io is not installed (Debian package qemu-utils): synced small writes over NBD not "
                    + "measured");
            return;
        }
        String disk = arm.createUploadDisk("synced-writes-disk", region);
        String storeId = arm.storeId(disk);
        double nbdSecondsPerWrite;
        Exports exports = new Exports(EXPORT, core, storeId);
        try (NbdServer server = NbdServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), exports)) {
            String uri = "nbd://127.0.0.1:" + server.port() + "/" + EXPORT;
            long started = System.nanoTime();
            qemuIo(uri, offsets, warmUp);
            long shortRun = System.nanoTime() - started;
            started = System.nanoTime();
            qemuIo(uri, offsets, writes);
            long longRun = System.nanoTime() - started;
            nbdSecondsPerWrite = (longRun - shortRun) / 1e9 / (writes - warmUp);
            exports.awaitAllClosed(); // the disk can be deleted only once no connection holds it
        }
        try (BlockDevice device = core.diskStore().open(storeId)) {
            Map<Long, Integer> last = new HashMap<>();
            for (int i = 0; i < writes; i++) {
                last.put(offsets[i], i);
            }
            for (Map.Entry<Long, Integer> write : last.entrySet()) {
                device.read(write.getKey(), page, 0, page.length);
                byte[] expected = new byte[page.length];
                Arrays.fill(expected, (byte) (write.getValue() % 251));
                if (!Arrays.equals(page, expected)) {
                    throw new IllegalStateException("synced small writes: the disk at " + write.getKey()
                            + " does not hold write " + write.getValue());
                }
            }
        }
        arm.delete(disk);
        double filePerSecond = writes / fileSeconds;
        System.out.printf(Locale.ROOT, "synced 4 KiB writes (a guest's fsync): file + fdatasync %.0f/s, NBD (qemu-io)"
                + " + FLUSH %.0f/s, ratio %.2fx%n", filePerSecond, 1 / nbdSecondsPerWrite,
                1 / nbdSecondsPerWrite / filePerSecond);
    }

    /** qemu-io writes {@code count} pages (write i holds the byte i mod 251), each followed by a FLUSH. */
    private static void qemuIo(String uri, long[] offsets, int count) throws Exception {
        List<String> command = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
        for (int i = 0; i < count; i++) {
            command.addAll(List.of("-c", "write -P " + (i % 251) + " " + offsets[i] + " 4k", "-c", "flush"));
        }
        command.add(uri);
        exec(command.toArray(String[]::new));
    }

    /** One disk exported under one name; every connection gets its own handle, as VM exports will. */
    private static final class Exports implements ExportRegistry {
        private final String name;
        private final CoffreCore core;
        private final String storeId;
        private final AtomicInteger open = new AtomicInteger();

        Exports(String name, CoffreCore core, String storeId) {
            this.name = name;
            this.core = core;
            this.storeId = storeId;
        }

        @Override
        public Optional<Export> open(String exportName) {
            if (!name.equals(exportName)) {
                return Optional.empty();
            }
            BlockDevice device = core.diskStore().open(storeId);
            open.incrementAndGet();
            return Optional.of(new Export(new CountedDevice(device), false));
        }

        @Override
        public List<String> list() {
            return List.of(name);
        }

        /** Waits until every connection's device was closed, i.e. flushed. */
        synchronized void awaitAllClosed() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
            while (open.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("NBD connections did not close within 10 minutes");
                }
                wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }

        private synchronized void closed() {
            open.decrementAndGet();
            notifyAll();
        }

        private final class CountedDevice implements BlockDevice {
            private final BlockDevice device;

            CountedDevice(BlockDevice device) {
                this.device = device;
            }

            @Override
            public long size() {
                return device.size();
            }

            @Override
            public void read(long offset, byte[] target, int targetOffset, int length) {
                device.read(offset, target, targetOffset, length);
            }

            @Override
            public void write(long offset, byte[] source, int sourceOffset, int length, boolean fua) {
                device.write(offset, source, sourceOffset, length, fua);
            }

            @Override
            public void flush() {
                device.flush();
            }

            @Override
            public void trim(long offset, long length) {
                device.trim(offset, length);
            }

            @Override
            public void close() {
                try {
                    device.close();
                } finally {
                    closed();
                }
            }
        }
    }

    /** The admin on the management host (127.0.0.1, which the TLS certificate names). */
    private static final class Arm {
        private final CoffreServer server;
        private final String token;
        private final HttpClient http;
        private final String group;
        /** One factory for every data request: connections are kept alive only for the factory that made them. */
        private final SSLSocketFactory sockets;

        Arm(CoffreServer server) throws Exception {
            this.server = server;
            CoffreCore core = server.core();
            this.token = Files.readString(server.config().dataDir().resolve(CoffreCore.ADMIN_TOKEN_FILE)).trim();
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("coffre", server.tlsCertificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            this.sockets = tls.getSocketFactory();
            this.http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
            String subscription = core.identity().defaultSubscriptionId();
            core.resourceManager().putResourceGroup(core.identity().admin(), subscription, GROUP, "uaenorth",
                    Map.of());
            this.group = "/subscriptions/" + subscription + "/resourceGroups/" + GROUP;
        }

        /** A platform-key disk of {@code size} bytes waiting for an upload; returns its resource id. */
        String createUploadDisk(String name, long size) throws Exception {
            String id = group + "/providers/Microsoft.Compute/disks/" + name;
            arm("PUT", id, "{\"location\":\"uaenorth\",\"properties\":{\"creationData\":{\"createOption\":"
                    + "\"Upload\",\"uploadSizeBytes\":" + size + "}}}", 201);
            return id;
        }

        String storeId(String disk) throws Exception {
            return Json.parse(arm("GET", disk, null, 200).body()).at("/properties/uniqueId").asText();
        }

        String grantAccess(String disk, String access) throws Exception {
            HttpResponse<String> started = arm("POST", disk + "/beginGetAccess", "{\"access\":\"" + access
                    + "\",\"durationInSeconds\":36000}", 202);
            HttpResponse<String> result = send(HttpRequest.newBuilder(URI.create(started.headers()
                    .firstValue("Location").orElseThrow())).GET(), 200);
            return Json.parse(result.body()).path("accessSAS").asText();
        }

        void revokeAccess(String disk) throws Exception {
            arm("POST", disk + "/endGetAccess", null, 202);
        }

        void delete(String disk) throws Exception {
            arm("DELETE", disk, null, 200);
        }

        /**
         * Page PUTs and ranged GETs go over blocking {@link HttpsURLConnection}s (kept alive and reused), the
         * lightest JDK client: the client shares the machine's cores with the server, as azcopy would.
         */
        void putPage(String sas, long offset, byte[] page, int length) throws IOException {
            putPage(sas, offset, page, length, false);
        }

        void putPage(String sas, long offset, byte[] page, int length, boolean closeConnection) throws IOException {
            HttpsURLConnection c = data(sas, closeConnection);
            c.setRequestMethod("PUT");
            c.setDoOutput(true);
            c.setFixedLengthStreamingMode(length);
            c.setRequestProperty("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1));
            c.setRequestProperty("x-ms-page-write", "update");
            try (OutputStream out = c.getOutputStream()) {
                out.write(page, 0, length);
            }
            int status = c.getResponseCode();
            if (status != 201) {
                throw new IllegalStateException("page PUT at " + offset + " -> " + status + " " + drain(c));
            }
            drain(c);
        }

        byte[] getRange(String sas, long offset, int length, boolean closeConnection) throws IOException {
            byte[] body = new byte[length];
            getRange(sas, offset, body, length, closeConnection);
            return body;
        }

        void getRange(String sas, long offset, byte[] target, int length) throws IOException {
            getRange(sas, offset, target, length, false);
        }

        /** Reads the {@code length} bytes at {@code offset} into {@code target}. */
        void getRange(String sas, long offset, byte[] target, int length, boolean closeConnection)
                throws IOException {
            HttpsURLConnection c = data(sas, closeConnection);
            c.setRequestProperty("Range", "bytes=" + offset + "-" + (offset + length - 1));
            int status = c.getResponseCode();
            if (status != 206) {
                throw new IllegalStateException("ranged GET at " + offset + " -> " + status + " " + drain(c));
            }
            try (InputStream in = c.getInputStream()) {
                int n = in.readNBytes(target, 0, length);
                if (n != length || in.read() >= 0) {
                    throw new IllegalStateException("ranged GET at " + offset + " returned a body of another length");
                }
            }
        }

        private HttpsURLConnection data(String sas, boolean closeConnection) throws IOException {
            HttpsURLConnection c = (HttpsURLConnection) URI.create(sas).toURL().openConnection();
            c.setSSLSocketFactory(sockets);
            if (closeConnection) {
                c.setRequestProperty("Connection", "close");
            }
            return c;
        }

        /** Reads what is left of a response, so its connection goes back to the keep-alive cache. */
        private static String drain(HttpsURLConnection c) throws IOException {
            try (InputStream in = c.getErrorStream() != null ? c.getErrorStream() : c.getInputStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        }

        private HttpResponse<String> arm(String method, String path, String body, int expected) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.port() + path
                    + API)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
            if (body != null) {
                b.header("Content-Type", "application/json");
            }
            return send(b, expected);
        }

        private HttpResponse<String> send(HttpRequest.Builder request, int expected) throws Exception {
            HttpResponse<String> r = http.send(request.header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != expected) {
                throw new IllegalStateException(r.request().method() + " " + r.request().uri() + " -> "
                        + r.statusCode() + " " + r.body());
            }
            return r;
        }
    }

    /** Writes {@code size} bytes of incompressible pseudo-random data; returns their SHA-256. */
    private static byte[] generateImage(Path image, long size) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        SplittableRandom random = new SplittableRandom(size);
        ByteBuffer buffer = ByteBuffer.allocate(PAGE_BYTES);
        try (FileChannel out = FileChannel.open(image, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (long done = 0; done < size; ) {
                int n = (int) Math.min(PAGE_BYTES, size - done);
                buffer.clear();
                while (buffer.position() + Long.BYTES <= n) {
                    buffer.putLong(random.nextLong());
                }
                while (buffer.position() < n) {
                    buffer.put((byte) random.nextInt());
                }
                sha.update(buffer.array(), 0, n);
                buffer.flip();
                while (buffer.hasRemaining()) {
                    out.write(buffer);
                }
                done += n;
            }
            // on disk before any timing, so the baseline does not compete with the image's write-back
            out.force(true);
        }
        return sha.digest();
    }

    /**
     * Prints, per path, its median round (by MB/s), the ratio of that median to the baseline's median, and the range
     * of the per-round ratios (each against the same round's baseline); returns the median rounds.
     */
    private static List<Result> print(List<List<Result>> byRound) {
        List<Result> medians = new ArrayList<>();
        List<String> ranges = new ArrayList<>();
        for (int path = 0; path < byRound.get(0).size(); path++) {
            int p = path;
            List<Result> rounds = new ArrayList<>(byRound.stream().map(r -> r.get(p)).toList());
            List<Double> ratios = byRound.stream()
                    .map(r -> r.get(p).megabytesPerSecond() / r.get(0).megabytesPerSecond()).sorted().toList();
            rounds.sort(java.util.Comparator.comparingDouble(Result::megabytesPerSecond));
            medians.add(rounds.get(rounds.size() / 2));
            ranges.add(String.format(Locale.ROOT, "%.2f-%.2f", ratios.get(0), ratios.get(ratios.size() - 1)));
        }
        Result baseline = medians.get(0);
        System.out.printf(Locale.ROOT, "%-48s %8s %8s %7s %11s  %-40s %s%n", "path (median round)", "seconds",
                "MB/s", "ratio", "per round", "CPU s/GiB: server (JVM) + client", "JIT");
        for (int i = 0; i < medians.size(); i++) {
            Result r = medians.get(i);
            System.out.printf(Locale.ROOT, "%-48s %8.2f %8.1f %6.2fx %11s  %6.2f + %-31.2f %3.0f %%%n", r.path(),
                    r.seconds(), r.megabytesPerSecond(), r.megabytesPerSecond() / baseline.megabytesPerSecond(),
                    ranges.get(i), r.serverCpuSecondsPerGib(), r.clientCpuSecondsPerGib(), 100 * r.compilerShare());
        }
        int cores = Runtime.getRuntime().availableProcessors();
        double fastestCopy = Math.max(baseline.megabytesPerSecond(), medians.get(1).megabytesPerSecond());
        System.out.printf(Locale.ROOT, "CPU ceiling: MB/s with all %d cores on the path at its CPU per GiB (server and"
                + " client share them), and that as a ratio to the faster durable copy (%.1f MB/s)%n", cores,
                fastestCopy);
        for (Result r : medians.subList(BASELINES, medians.size())) {
            double ceiling = r.cpuCeilingMegabytesPerSecond(cores);
            System.out.printf(Locale.ROOT, "%-48s %17.1f %6.2fx%n", r.path(), ceiling, ceiling / fastestCopy);
        }
        if (byRound.size() > 1) {
            // the baseline's own speed moves from round to round, and each round's ratios with it
            System.out.println("MB/s by round");
            for (int path = 0; path < medians.size(); path++) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-48s", medians.get(path).path()));
                for (List<Result> round : byRound) {
                    line.append(String.format(Locale.ROOT, " %8.1f", round.get(path).megabytesPerSecond()));
                }
                System.out.println(line);
            }
        }
        return medians;
    }

    private static void requireSame(String what, byte[] actual, byte[] expected) {
        if (!MessageDigest.isEqual(actual, expected)) {
            throw new IllegalStateException(what + ": SHA-256 " + HexFormat.of().formatHex(actual)
                    + " differs from the image's " + HexFormat.of().formatHex(expected));
        }
    }

    private static byte[] sha256(Path file) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        ByteBuffer buffer = ByteBuffer.allocate(PAGE_BYTES);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            while (in.read(buffer) > 0) {
                buffer.flip();
                sha.update(buffer);
                buffer.clear();
            }
        }
        return sha.digest();
    }

    private static void exec(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
        }
    }

    private static boolean onPath(String binary) {
        return Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, binary)));
    }

    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + text + "' is not of the form 2GiB, 64MiB, 512KiB or bytes");
        }
        long shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "kib" -> 10;
            case "mib" -> 20;
            case "gib" -> 30;
            default -> 0;
        };
        return Long.parseLong(m.group(1)) << shift;
    }

    private static String human(long bytes) {
        return bytes % (1L << 30) == 0 ? (bytes >> 30) + " GiB" : bytes % (1L << 20) == 0 ? (bytes >> 20) + " MiB"
                : bytes + " bytes";
    }

    private static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
