package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.json.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A {@link ServerChild} process on a data directory and a fixed port (key ids name the port, so a restarted server
 * must keep it), with an HTTPS client trusting its certificate. {@link #kill} is SIGKILL: no shutdown hook runs.
 */
final class ServerProcess implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final Path dataDir;
    private final int port;
    private HttpClient http;

    private ServerProcess(Process process, Path dataDir, int port) {
        this.process = process;
        this.dataDir = dataDir;
        this.port = port;
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the pipe closes when the process dies
            }
        }, "server-child-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts the server and waits until it serves. */
    static ServerProcess start(Path dataDir, int port, String... options) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx768m", "-cp", System.getProperty("java.class.path"),
                ServerChild.class.getName(), dataDir.toString(), Integer.toString(port)));
        command.addAll(List.of(options));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ServerProcess server = new ServerProcess(process, dataDir, port);
        try {
            server.awaitLine("ready " + port, START_TIMEOUT);
        } catch (RuntimeException | Error e) {
            server.kill();
            throw e;
        }
        return server;
    }

    /** Waits for a line the server prints (log lines share its stdout); fails if it dies or the time is up. */
    void awaitLine(String expected, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(100, TimeUnit.MILLISECONDS);
            if (expected.equals(line)) {
                return;
            }
            if (line == null && !process.isAlive()) {
                throw new AssertionError("the server process exited (" + process.exitValue() + ") before printing '"
                        + expected + "'");
            }
        }
        throw new AssertionError("the server process did not print '" + expected + "' within " + timeout);
    }

    /** SIGKILL, then waits until the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("the killed server process exited").isTrue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }

    String base() {
        return "https://127.0.0.1:" + port;
    }

    String adminToken() throws IOException {
        return Files.readString(dataDir.resolve(CoffreCore.ADMIN_TOKEN_FILE)).trim();
    }

    String subscriptionId() throws IOException {
        return Json.parse(Files.readString(dataDir.resolve("server.json"))).path("subscriptionId").asText();
    }

    /** A client that trusts exactly the server's certificate. */
    synchronized HttpClient http() throws Exception {
        if (http == null) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            try (InputStream pem = Files.newInputStream(dataDir.resolve("tls-cert.pem"))) {
                trust.setCertificateEntry("coffre", CertificateFactory.getInstance("X.509").generateCertificate(pem));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
        }
        return http;
    }

    /** An ARM call on the management host as the admin; fails unless the status is {@code expected}. */
    HttpResponse<String> arm(String method, String pathAndQuery, String body, int expected) throws Exception {
        return send(method, URI.create(pathAndQuery.startsWith("https://") ? pathAndQuery : base() + pathAndQuery),
                body, expected);
    }

    HttpResponse<String> send(String method, URI uri, String body, int expected) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2))
                .header("Authorization", "Bearer " + adminToken())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = http().send(b.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(method + " " + uri + ": " + r.body()).isEqualTo(expected);
        return r;
    }

    /** beginGetAccess as the SDK polls it; returns the access URL. */
    String grantAccess(String resourceId, String access) throws Exception {
        HttpResponse<String> started = arm("POST", resourceId + "/beginGetAccess" + DiskRoutesTest.V,
                DiskRoutesTest.grant(access), 202);
        JsonNode result = Json.parse(arm("GET", started.headers().firstValue("Location").orElseThrow(), null, 200)
                .body());
        return result.path("accessSAS").asText();
    }
}
