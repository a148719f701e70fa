package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real Coffre server on an ephemeral loopback port with a fresh data directory, and an HTTPS client that trusts
 * its certificate. Names under {@code coffre.localhost} resolve through the {@code test-hosts} file.
 */
public final class TestServer implements AutoCloseable {
    private final Path dataDir;
    private final CoffreServer server;
    private final HttpClient http;

    private TestServer(Path dataDir, CoffreServer server) {
        this.dataDir = dataDir;
        this.server = server;
        this.http = HttpClient.newBuilder().sslContext(sslContext()).connectTimeout(Duration.ofSeconds(10)).build();
    }

    public static TestServer start() {
        return start(false);
    }

    public static TestServer start(boolean manualClock) {
        Path dir = tempDir();
        return new TestServer(dir, CoffreServer.start(ServerConfig.defaults(dir).withPort(0)
                .withManualClock(manualClock)));
    }

    /** A server keeping its metadata in {@code database} and its blobs in {@code blobs} (scale-out storage). */
    public static TestServer startOn(MetadataStores.Database database, BlobStores.S3Location blobs) {
        return startOn(database, blobs, null);
    }

    /** As {@link #startOn(MetadataStores.Database, BlobStores.S3Location)}, another node's master key if not null. */
    public static TestServer startOn(MetadataStores.Database database, BlobStores.S3Location blobs, Path masterKey) {
        Path dir = tempDir();
        ServerConfig defaults = ServerConfig.defaults(dir);
        return new TestServer(dir, CoffreServer.start(new ServerConfig(dir, defaults.bindHost(), 0,
                defaults.dnsSuffix(), masterKey, false, null, null, defaults.matrix(), 0, database, blobs)));
    }

    /** A server started with the named support matrix ({@code coffre server --matrix}). */
    public static TestServer startWithMatrix(String matrix) {
        Path dir = tempDir();
        ServerConfig defaults = ServerConfig.defaults(dir).withPort(0);
        return new TestServer(dir, CoffreServer.start(new ServerConfig(dir, defaults.bindHost(), 0,
                defaults.dnsSuffix(), null, false, null, null, matrix)));
    }

    /** A server whose only routes are {@code modules} (e.g. routes in front of a recording service). */
    static TestServer startWith(Function<CoffreCore, List<RouteModule>> modules) {
        Path dir = tempDir();
        return new TestServer(dir, CoffreServer.start(ServerConfig.defaults(dir).withPort(0), modules));
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("coffre-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public CoffreServer server() {
        return server;
    }

    public Path dataDir() {
        return dataDir;
    }

    public int port() {
        return server.port();
    }

    /** {@code https://{host}:{port}} */
    public String url(String host) {
        return "https://" + host + ":" + port();
    }

    public HttpClient http() {
        return http;
    }

    public HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public HttpResponse<String> get(String host, String pathAndQuery, String bearer) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(host) + pathAndQuery)).GET();
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return send(b);
    }

    /** The administrator's token written to the data directory on first start (valid for every Coffre audience). */
    public String adminToken() {
        try {
            return Files.readString(dataDir.resolve(io.coffre.CoffreCore.ADMIN_TOKEN_FILE)).trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Any method; a non-null {@code body} is sent as JSON, a null one as no body at all (as the SDKs' first try). */
    public HttpResponse<String> send(String method, String host, String pathAndQuery, String bearer, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url(host) + pathAndQuery))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (bearer != null) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return send(b);
    }

    /** Trusts exactly the server's certificate. */
    public SSLContext sslContext() {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("coffre", server.tlsCertificate());
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
