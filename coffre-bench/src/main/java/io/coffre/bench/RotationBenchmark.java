package io.coffre.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.Endpoints;
import io.coffre.arm.AsyncOperations;
import io.coffre.audit.AuditLog;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.compute.EncryptionKeys;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.compute.disk.DiskSource;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.disk.DiskStores;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.time.CoffreClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.stream.Stream;

/**
 * Rotation of one Disk Encryption Set's key with many disks and many snapshots / restore points, on a real core (H2
 * and files in a temporary directory, real key service, audit): N disks' data keys are created through the DES's
 * data key ring (the path disks use on create) plus a few real disks written with random data, M snapshots and
 * restore points record that they keep the DES key, then a new key version is PUT as the DES
 * {@code activeKey.keyUrl}. Prints setup time, rotation time (from the PUT to the completed async operation), the
 * key-service operations the audit log recorded on the key during the rotation and the database file's size; then
 * disables the old version, reopens the core (so no cached key helps) and checks that every snapshot / restore point
 * names the DES key under the new version, that sampled data keys are byte-identical and that the real disks read
 * back identical. The target: under 10 s and O(1) key-service operations on 2 cores.
 *
 * <p>Run: {@code coffre-bench/run-rotation-benchmark.sh} (options: {@code --disks 10000 --copies 100000}).
 */
public final class RotationBenchmark {
    private static final String CMK = "EncryptionAtRestWithCustomerKey";
    private static final String REGION = "uaenorth";
    private static final String GROUP = "bench";
    private static final String DES = "bench-des";
    private static final String KEY = "cmk";
    private static final Store VAULT = Store.vault("benchkv");
    private static final Endpoints ENDPOINTS = new Endpoints("coffre.localhost", 8443);
    private static final int SAMPLE = 100;
    private static final int REAL_DISKS = 3;
    private static final int REAL_DISK_BYTES = 4 << 20;
    private static final Duration ROTATION_TIMEOUT = Duration.ofMinutes(10);

    private RotationBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int disks = 10_000;
        int copies = 100_000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--disks" -> disks = Integer.parseInt(args[i + 1]);
                case "--copies" -> copies = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --disks N --copies N");
            }
        }
        if (disks < 1 || copies < 0) {
            throw new IllegalArgumentException("--disks must be at least 1 and --copies at least 0");
        }
        Path dataDir = Files.createTempDirectory("coffre-rotation-bench");
        System.out.printf(Locale.ROOT, "One DES, %d disks, %d snapshots / restore points, %d cores, load average %s%n",
                disks, copies, Runtime.getRuntime().availableProcessors(), loadAverage());
        try {
            run(dataDir, disks, copies);
        } finally {
            System.out.printf(Locale.ROOT, "data directory: %d MB on disk at the end; load average %s%n",
                    sizeOf(dataDir) >> 20, loadAverage());
            deleteRecursively(dataDir);
        }
    }

    private static void run(Path dataDir, int disks, int copies) throws Exception {
        Map<UUID, byte[]> sample;
        Map<String, byte[]> written;
        String oldVersion;
        String newVersion;
        try (CoffreCore core = CoffreCore.open(dataDir, null, ENDPOINTS, CoffreClock.system())) {
            Bench bench = new Bench(core);
            oldVersion = bench.createDes();
            sample = bench.populate(disks, copies);
            written = bench.writeRealDisks();
            System.out.printf(Locale.ROOT, "database file before the rotation: %d MB%n", databaseSize(dataDir) >> 20);
            newVersion = bench.rotate();
            System.out.printf(Locale.ROOT, "database file after the rotation: %d MB%n", databaseSize(dataDir) >> 20);
            bench.disable(oldVersion);
        }
        // A fresh core holds no cached DES or data key: every sampled key is unwrapped from the rotated DES key.
        try (CoffreCore core = CoffreCore.open(dataDir, null, ENDPOINTS, CoffreClock.system())) {
            Bench bench = new Bench(core);
            int holders = bench.holdersUnder(newVersion);
            DataKeyRing ring = bench.ring();
            int identical = 0;
            for (Map.Entry<UUID, byte[]> key : sample.entrySet()) {
                if (Arrays.equals(ring.key(key.getKey()).orElseThrow().getEncoded(), key.getValue())) {
                    identical++;
                }
            }
            int disksIdentical = bench.readBackIdentical(written);
            System.out.printf(Locale.ROOT, "old version %s disabled: %d of %d snapshots / restore points name the"
                            + " DES key under the new version; %d of %d sampled data keys and %d of %d written disks"
                            + " read back identical%n", oldVersion.substring(oldVersion.lastIndexOf('/') + 1),
                    holders, copies, identical, sample.size(), disksIdentical, written.size());
            if (holders != copies || identical != sample.size() || disksIdentical != written.size()) {
                throw new IllegalStateException("the rotation left something unreadable or under the old version");
            }
        }
    }

    private static Path databaseFile(Path dataDir) {
        return dataDir.resolve("db").resolve("coffre.mv.db");
    }

    private static long databaseSize(Path dataDir) throws IOException {
        return Files.size(databaseFile(dataDir));
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static long sizeOf(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** The benchmark's steps on one open core, as the admin. */
    private static final class Bench {
        private final CoffreCore core;
        private final KeyService keys;
        private final DiskEncryptionSets sets;
        private final Principal admin;
        private final String subscription;
        private final String desId;

        Bench(CoffreCore core) {
            this.core = core;
            this.keys = core.keyService();
            this.sets = core.diskEncryptionSets();
            this.admin = core.identity().admin();
            this.subscription = core.identity().defaultSubscriptionId();
            this.desId = "/subscriptions/" + subscription + "/resourceGroups/" + GROUP
                    + "/providers/Microsoft.Compute/diskEncryptionSets/" + DES;
        }

        DataKeyRing ring() {
            return core.encryptionKeys().ring(new EncryptionKeys.Setting(CMK, desId, REGION));
        }

        /** Premium purge-protected vault, RSA-HSM key, the DES on its first version, the DES identity granted. */
        String createDes() {
            core.resourceManager().putResourceGroup(admin, subscription, GROUP, REGION, Map.of());
            ObjectNode vault = Json.object().put("location", REGION);
            ObjectNode p = vault.putObject("properties");
            p.putObject("sku").put("family", "A").put("name", "premium");
            p.put("tenantId", core.identity().tenantId()).put("enablePurgeProtection", true);
            p.putArray("accessPolicies").add(accessPolicy(admin, "all"));
            keys.putStore(admin, subscription, GROUP, VAULT, vault);
            String v1 = keys.createKey(admin, VAULT, KEY, Json.object().put("kty", "RSA-HSM").put("key_size", 3072))
                    .path("key").path("kid").asText();
            String principalId = putDes(v1).resource().path("identity").path("principalId").asText();
            ObjectNode stored = keys.getStore(admin, subscription, GROUP, VAULT);
            ((ArrayNode) stored.path("properties").path("accessPolicies"))
                    .add(accessPolicy(core.identity().find(principalId).orElseThrow(), "get", "wrapKey", "unwrapKey"));
            keys.putStore(admin, subscription, GROUP, VAULT, stored);
            return v1;
        }

        /**
         * Creates the data keys and the snapshots' / restore points' hold on the DES key (each its own transaction, as
         * the API offers); returns a sample of data keys with their bytes.
         */
        Map<UUID, byte[]> populate(int disks, int copies) throws Exception {
            DataKeyRing ring = ring();
            Map<UUID, byte[]> sample = new LinkedHashMap<>();
            long start = System.nanoTime();
            // The first data key unwraps the DES key once; the rest reuse it.
            UUID first = ring.newKey("disk-0");
            sample.put(first, ring.key(first).orElseThrow().getEncoded());
            int step = Math.max(1, disks / SAMPLE);
            List<UUID> ids = inParallel(disks - 1, i -> ring.newKey("disk-" + (i + 1)));
            for (int i = step - 1; i < ids.size() && sample.size() < SAMPLE; i += step) {
                sample.put(ids.get(i), ring.key(ids.get(i)).orElseThrow().getEncoded());
            }
            double keysSeconds = seconds(start);
            long copiesStart = System.nanoTime();
            inParallel(copies, i -> {
                sets.copyWrappedKey(desId, (i % 2 == 0 ? "snapshot-" : "restore-point-") + i);
                return i;
            });
            double copiesSeconds = seconds(copiesStart);
            System.out.printf(Locale.ROOT, "setup: %d disks' data keys in %.1f s (%.0f/s), %d snapshots / restore"
                            + " points in %.1f s (%.0f/s), %.1f s in all%n", disks, keysSeconds, disks / keysSeconds,
                    copies, copiesSeconds, copies / copiesSeconds, keysSeconds + copiesSeconds);
            return sample;
        }

        /** A few real disks over the DES ring, written with random data (their data keys are among the disks). */
        Map<String, byte[]> writeRealDisks() {
            Map<String, byte[]> written = new LinkedHashMap<>();
            SecureRandom random = new SecureRandom();
            try (DiskStore store = DiskStores.open(core.metadata(), core.blobs(), ring())) {
                for (int i = 0; i < REAL_DISKS; i++) {
                    byte[] data = new byte[REAL_DISK_BYTES];
                    random.nextBytes(data);
                    String id = store.create(2L * REAL_DISK_BYTES, DiskSource.empty());
                    try (BlockDevice device = store.open(id)) {
                        device.write(0, data, 0, data.length, true);
                        device.flush();
                    }
                    written.put(id, data);
                }
            }
            return written;
        }

        int readBackIdentical(Map<String, byte[]> written) {
            int identical = 0;
            try (DiskStore store = DiskStores.open(core.metadata(), core.blobs(), ring())) {
                for (Map.Entry<String, byte[]> disk : written.entrySet()) {
                    byte[] read = new byte[disk.getValue().length];
                    try (BlockDevice device = store.open(disk.getKey())) {
                        device.read(0, read, 0, read.length);
                    }
                    if (Arrays.equals(read, disk.getValue())) {
                        identical++;
                    }
                }
            }
            return identical;
        }

        /** Snapshots / restore points whose DES key is stored wrapped under {@code keyUrl}. */
        int holdersUnder(String keyUrl) {
            return core.metadata().withHandle(h -> h.createQuery("SELECT count(*) FROM compute_des_key_holders c"
                            + " JOIN compute_wrapped_des_keys k ON k.owner_id = c.des_id AND k.des_id = c.des_id"
                            + " WHERE k.kek_key_id = :kek").bind("kek", keyUrl).mapTo(Integer.class).one());
        }

        /** A new key version PUT as the DES active key; waits for the rotation operation to complete. */
        String rotate() throws InterruptedException {
            String v2 = keys.rotateKey(admin, VAULT, KEY).path("key").path("kid").asText();
            Map<String, Integer> before = keyOperations();
            long start = System.nanoTime();
            String operationId = putDes(v2).rotationOperationId();
            if (operationId == null) {
                throw new IllegalStateException("the PUT of a new key version started no rotation");
            }
            AsyncOperations.Operation done = await(operationId);
            double seconds = seconds(start);
            Map<String, Integer> during = new TreeMap<>(keyOperations());
            before.forEach((operation, count) -> during.merge(operation, -count, Integer::sum));
            during.values().removeIf(count -> count == 0);
            System.out.printf(Locale.ROOT, "rotation: %s in %.3f s, key-service operations on the key (audit log): %d %s%n",
                    done.status(), seconds, during.values().stream().mapToInt(Integer::intValue).sum(), during);
            if (done.status() != AsyncOperations.Status.Succeeded) {
                throw new IllegalStateException("rotation failed: " + done.errorCode() + " " + done.errorMessage());
            }
            return v2;
        }

        void disable(String keyId) {
            keys.updateKey(admin, VAULT, KEY, keyId.substring(keyId.lastIndexOf('/') + 1),
                    Json.parse("{\"attributes\":{\"enabled\":false}}"));
        }

        private DiskEncryptionSets.PutResult putDes(String keyUrl) {
            ObjectNode body = Json.object().put("location", REGION);
            body.putObject("identity").put("type", "SystemAssigned");
            ObjectNode p = body.putObject("properties").put("encryptionType", CMK)
                    .put("rotationToLatestKeyVersionEnabled", false);
            p.putObject("activeKey").put("keyUrl", keyUrl);
            return sets.put(admin, subscription, GROUP, DES, body);
        }

        /** The audit log's entries on the key, counted by operation. */
        private Map<String, Integer> keyOperations() {
            Map<String, Integer> counts = new TreeMap<>();
            for (AuditLog.Entry e : core.audit().list(ENDPOINTS.vaultUri(VAULT.name()) + "/keys/" + KEY,
                    Integer.MAX_VALUE)) {
                counts.merge(e.operation(), 1, Integer::sum);
            }
            return counts;
        }

        private AsyncOperations.Operation await(String operationId) throws InterruptedException {
            long deadline = System.nanoTime() + ROTATION_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                AsyncOperations.Operation op = core.asyncOperations().get(operationId).orElseThrow();
                if (op.isDone()) {
                    return op;
                }
                Thread.sleep(2);
            }
            throw new IllegalStateException("rotation " + operationId + " did not finish within " + ROTATION_TIMEOUT);
        }
    }

    /** Runs {@code call} for indexes 0 .. count-1 on one thread per core; returns the results in index order. */
    private static <T> List<T> inParallel(int count, IntFunction<T> call) throws Exception {
        int threads = Runtime.getRuntime().availableProcessors();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<T>>> parts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int from = (int) ((long) count * t / threads);
                int to = (int) ((long) count * (t + 1) / threads);
                parts.add(pool.submit(() -> {
                    List<T> results = new ArrayList<>(to - from);
                    for (int i = from; i < to; i++) {
                        results.add(call.apply(i));
                    }
                    return results;
                }));
            }
            List<T> all = new ArrayList<>(count);
            for (Future<List<T>> part : parts) {
                all.addAll(part.get());
            }
            return all;
        } finally {
            pool.shutdown();
        }
    }

    private static ObjectNode accessPolicy(Principal principal, String... permissions) {
        ObjectNode policy = Json.object();
        policy.put("tenantId", principal.tenantId()).put("objectId", principal.objectId());
        ArrayNode granted = policy.putObject("permissions").putArray("keys");
        for (String permission : permissions) {
            granted.add(permission);
        }
        return policy;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
