package io.coffre.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.server.CoffreServer;
import io.coffre.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * RSA-3072 RSA-OAEP-256 wrap and unwrap of a 32-byte key, operations per second, measured three ways in one run
 * with the same number of concurrent callers: (a) raw JCA, (b) the in-process KeyService of a real server (real data
 * directory, sealed key material, authorisation, audit), (c) HTTPS to that server on loopback. The ratios (b)/(a)
 * and (c)/(a) are the cost of the service and of the wire; absolute numbers depend on the machine.
 *
 * <p>Run: {@code coffre-bench/run-key-service-benchmark.sh}
 * (options: {@code --seconds 3 --clients 4}; the exec plugin is not available offline, hence the script).
 */
public final class KeyServiceBenchmark {
    private static final OAEPParameterSpec OAEP_256 = new OAEPParameterSpec("SHA-256", "MGF1",
            MGF1ParameterSpec.SHA256, PSource.PSpecified.DEFAULT);
    private static final String API = "?api-version=7.6";
    private static final int ROUNDS = 3;

    /** One measured operation; {@code run} is called repeatedly by each caller thread. */
    @FunctionalInterface
    interface Operation {
        void run() throws Exception;
    }

    /** A caller thread's operation, built per thread (ciphers and HTTP clients are not shared). */
    @FunctionalInterface
    interface PerThread {
        Operation create() throws Exception;
    }

    record Rate(long operations, double seconds) {
    }

    private KeyServiceBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        // The vault is addressed by host name; the bench connects to 127.0.0.1 and names the vault in Host.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        Duration duration = Duration.ofSeconds(3);
        int clients = 4;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--seconds" -> duration = Duration.ofSeconds(Integer.parseInt(args[i + 1]));
                case "--clients" -> clients = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; use --seconds N --clients N");
            }
        }
        if (clients < 1 || clients > 64) {
            throw new IllegalArgumentException("--clients must be 1..64");
        }
        Path dataDir = Files.createTempDirectory("coffre-bench");
        try (CoffreServer server = CoffreServer.start(ServerConfig.defaults(dataDir).withPort(0))) {
            run(server, duration, clients);
        }
    }

    private static void run(CoffreServer server, Duration duration, int clients) throws Exception {
        CoffreCore core = server.core();
        Principal admin = core.identity().admin();
        String token = core.identity().issueToken(admin, List.of(core.endpoints().vaultResource(),
                core.endpoints().managementResource()), Duration.ofHours(1));
        Http http = new Http(server, token);
        String kid = http.createVaultAndKey();
        String version = kid.substring(kid.lastIndexOf('/') + 1);
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);

        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(3072);
        KeyPair jcaKey = generator.generateKeyPair();
        byte[] jcaWrapped = oaep(Cipher.ENCRYPT_MODE, jcaKey).doFinal(secret);

        KeyService keys = core.keyService();
        KeyService.Store store = KeyService.Store.vault(Http.VAULT);
        ObjectNode wrapBody = Json.object().put("alg", "RSA-OAEP-256").put("value", Json.b64url(secret));
        String serviceWrapped = keys.keyOperation(admin, store, Http.KEY, version, "wrapkey", wrapBody)
                .path("value").asText();
        ObjectNode unwrapBody = Json.object().put("alg", "RSA-OAEP-256").put("value", serviceWrapped);
        String wrapJson = Json.write(wrapBody);
        String unwrapJson = Json.write(unwrapBody);

        List<Measurement> measurements = List.of(
                new Measurement("(a) JCA wrap", () -> {
                    Cipher c = oaep(Cipher.ENCRYPT_MODE, jcaKey);
                    return () -> c.doFinal(secret);
                }),
                new Measurement("(b) KeyService wrap",
                        () -> () -> keys.keyOperation(admin, store, Http.KEY, version, "wrapkey", wrapBody)),
                new Measurement("(c) HTTPS wrap", () -> http.operation(version, "wrapkey", wrapJson)),
                new Measurement("(a) JCA unwrap", () -> {
                    Cipher c = oaep(Cipher.DECRYPT_MODE, jcaKey);
                    return () -> c.doFinal(jcaWrapped);
                }),
                new Measurement("(b) KeyService unwrap",
                        () -> () -> keys.keyOperation(admin, store, Http.KEY, version, "unwrapkey", unwrapBody)),
                new Measurement("(c) HTTPS unwrap", () -> http.operation(version, "unwrapkey", unwrapJson)));
        System.out.printf(Locale.ROOT, "RSA-3072 RSA-OAEP-256, 32-byte key, %d concurrent callers, %d s each in %d "
                        + "interleaved rounds, %d cores%n", clients, duration.toSeconds(), ROUNDS,
                Runtime.getRuntime().availableProcessors());
        // Interleaved rounds, so a change in machine load mid-run affects every variant alike.
        Duration slice = duration.dividedBy(ROUNDS);
        for (int round = 0; round < ROUNDS; round++) {
            for (Measurement m : measurements) {
                m.add(measure(clients, slice, round == 0, m.perThread));
            }
        }
        for (int i = 0; i < measurements.size(); i++) {
            Measurement m = measurements.get(i);
            Measurement jca = measurements.get(i < 3 ? 0 : 3);
            System.out.printf(Locale.ROOT, "%-24s %10.1f ops/s  (%d ops)   ratio to (a): %.3f%n", m.label,
                    m.perSecond(), m.operations, m.perSecond() / jca.perSecond());
        }
    }

    /** One variant's accumulated count and time over the rounds. */
    private static final class Measurement {
        final String label;
        final PerThread perThread;
        long operations;
        double seconds;

        Measurement(String label, PerThread perThread) {
            this.label = label;
            this.perThread = perThread;
        }

        void add(Rate rate) {
            operations += rate.operations();
            seconds += rate.seconds();
        }

        double perSecond() {
            return operations / seconds;
        }
    }

    private static Cipher oaep(int mode, KeyPair key) throws Exception {
        Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
        cipher.init(mode, mode == Cipher.ENCRYPT_MODE ? key.getPublic() : key.getPrivate(), OAEP_256);
        return cipher;
    }

    /** Runs one operation per thread in a loop for {@code duration}, after a short warm-up if asked. */
    static Rate measure(int threads, Duration duration, boolean warmUp, PerThread perThread) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicBoolean counting = new AtomicBoolean(false);
        AtomicBoolean stop = new AtomicBoolean(false);
        try {
            List<Future<Long>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                results.add(pool.submit(() -> {
                    Operation op = perThread.create();
                    long count = 0;
                    while (!stop.get()) {
                        op.run();
                        if (counting.get()) {
                            count++;
                        }
                    }
                    return count;
                }));
            }
            Thread.sleep(warmUp ? 1000 : 100);
            long start = System.nanoTime();
            counting.set(true);
            Thread.sleep(duration.toMillis());
            counting.set(false);
            double seconds = (System.nanoTime() - start) / 1e9;
            stop.set(true);
            long total = 0;
            for (Future<Long> f : results) {
                total += f.get();
            }
            return new Rate(total, seconds);
        } finally {
            stop.set(true);
            pool.shutdown();
        }
    }

    /** The server's HTTPS surface as a client sees it: loopback connections, the vault named in Host. */
    private static final class Http {
        static final String VAULT = "benchkv";
        static final String KEY = "bench";

        private final CoffreServer server;
        private final String token;
        private final SSLContext tls;

        Http(CoffreServer server, String token) throws Exception {
            this.server = server;
            this.token = token;
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("coffre", server.tlsCertificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
        }

        HttpClient client() {
            return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
        }

        /** Resource group, premium vault with the admin's access policy, RSA-HSM 3072 key; returns the kid. */
        String createVaultAndKey() throws Exception {
            HttpClient client = client();
            CoffreCore core = server.core();
            String group = "/subscriptions/" + core.identity().defaultSubscriptionId() + "/resourceGroups/bench";
            String tenant = core.identity().tenantId();
            core.resourceManager().putResourceGroup(core.identity().admin(), core.identity().defaultSubscriptionId(),
                    "bench", "uaenorth", Map.of());
            send(client, "management", "PUT", group + "/providers/Microsoft.KeyVault/vaults/" + VAULT
                    + "?api-version=2022-07-01", """
                    {"location":"uaenorth","properties":{"tenantId":"%s","sku":{"family":"A","name":"premium"},
                     "accessPolicies":[{"tenantId":"%s","objectId":"%s","permissions":{"keys":["all"]}}]}}"""
                    .formatted(tenant, tenant, core.identity().admin().objectId()));
            JsonNode key = send(client, VAULT + ".vault", "POST", "/keys/" + KEY + "/create" + API,
                    "{\"kty\":\"RSA-HSM\",\"key_size\":3072}");
            return key.at("/key/kid").asText();
        }

        Operation operation(String version, String operation, String body) {
            HttpClient client = client();
            return () -> send(client, VAULT + ".vault", "POST", "/keys/" + KEY + "/" + version + "/" + operation + API,
                    body);
        }

        private JsonNode send(HttpClient client, String hostLabel, String method, String path, String body)
                throws Exception {
            String host = hostLabel + "." + server.config().dnsSuffix() + ":" + server.port();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(
                            URI.create("https://127.0.0.1:" + server.port() + path))
                    .header("Host", host).header("Authorization", "Bearer " + token)
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() >= 300) {
                throw new IllegalStateException(method + " " + host + path + " -> " + r.statusCode() + " " + r.body());
            }
            return Json.parse(r.body());
        }
    }
}
