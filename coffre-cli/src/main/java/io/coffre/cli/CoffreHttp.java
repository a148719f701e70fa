package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;

/**
 * HTTPS to a Coffre server: trusts exactly the server's certificate, sends the bearer token, turns error bodies
 * into {@link ServerError}, follows paging links and waits for ARM long-running operations.
 */
final class CoffreHttp {
    record Response(int status, JsonNode body, HttpHeaders headers) {
        String header(String name) {
            return headers.firstValue(name).orElse(null);
        }
    }

    private static final Duration LRO_TIMEOUT = Duration.ofMinutes(10);
    private static final Set<String> TERMINAL_STATES = Set.of("succeeded", "failed", "canceled", "cancelled");

    private final HttpClient client;
    private final String token;
    private final String noTokenHint;

    /**
     * @param token       bearer token, or null to send none (the server then answers 401 and says why)
     * @param noTokenHint appended to a 401 when no token was sent: where the user can get one
     */
    CoffreHttp(SSLContext tls, String token, String noTokenHint) {
        this.client = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
        this.token = token;
        this.noTokenHint = noTokenHint;
    }

    /** A TLS context whose only trust anchors are the certificates in {@code pemFile} (never the system's). */
    static SSLContext trusting(Path pemFile) {
        if (!Files.exists(pemFile)) {
            throw new CliError("The server's certificate " + pemFile + " is missing; restart the server so it "
                    + "writes it, or check --data-dir.");
        }
        try (InputStream in = Files.newInputStream(pemFile)) {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certs.isEmpty()) {
                throw new CliError(pemFile + " holds no PEM certificate.");
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate cert : certs) {
                trust.setCertificateEntry("coffre-" + i++, cert);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new CliError("Cannot load the server's certificate " + pemFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * Sends a data-plane request that is authorised by its URL's token alone (a disk access URL): no bearer token,
     * asynchronously, so transfers can keep several requests in flight.
     */
    java.util.concurrent.CompletableFuture<HttpResponse<byte[]>> sendData(HttpRequest request) {
        return client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray());
    }

    JsonNode get(String url) {
        return send("GET", url, null).body();
    }

    JsonNode post(String url, JsonNode body) {
        return send("POST", url, body).body();
    }

    JsonNode put(String url, JsonNode body) {
        return send("PUT", url, body).body();
    }

    JsonNode delete(String url) {
        return send("DELETE", url, null).body();
    }

    /** Sends and fails unless the status is one of {@code expected} (the SDKs are that strict on some calls). */
    JsonNode expect(String method, String url, JsonNode body, int... expected) {
        Response r = send(method, url, body);
        if (Arrays.stream(expected).noneMatch(s -> s == r.status())) {
            throw new ServerError(r.status(), "UnexpectedStatus", method + " " + url + " answered " + r.status()
                    + " where clients expect " + Arrays.toString(expected) + ".");
        }
        return r.body();
    }

    /** One request; any status of 400 or more becomes a {@link ServerError}. Empty bodies come back as null node. */
    Response send(String method, String url, JsonNode body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("Accept", "application/json");
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(Json.write(body)));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> response = exchange(request.build());
        if (response.statusCode() >= 400) {
            throw error(response.statusCode(), response.body());
        }
        return new Response(response.statusCode(), parseBody(response.body()), response.headers());
    }

    /** GETs a list and follows {@code nextLink} (ARM, Key Vault) / {@code @odata.nextLink} (Graph) to the end. */
    ArrayNode getAll(String url) {
        ArrayNode all = Json.MAPPER.createArrayNode();
        String next = url;
        while (next != null) {
            JsonNode page = get(next);
            page.path("value").forEach(all::add);
            String link = page.path("nextLink").asText(page.path("@odata.nextLink").asText(""));
            next = link.isEmpty() ? null : link;
        }
        return all;
    }

    /**
     * Sends an ARM request and, if the server answers with a long-running operation, waits for its end the way the
     * SDK pollers do: {@code Azure-AsyncOperation} / {@code Operation-Location} status, else {@code Location}, else
     * (PUT) the resource's {@code provisioningState}.
     *
     * @return the final resource (PUT, PATCH: re-read; POST: the Location result), or null node when there is none
     */
    JsonNode sendAndWait(String method, String url, JsonNode body) {
        Response initial = send(method, url, body);
        Instant deadline = Instant.now().plus(LRO_TIMEOUT);
        String statusUrl = initial.header("Azure-AsyncOperation") != null ? initial.header("Azure-AsyncOperation")
                : initial.header("Operation-Location");
        String location = initial.header("Location");
        if (statusUrl != null) {
            Response status = initial;
            do {
                pause(status, deadline, url);
                status = send("GET", statusUrl, null);
            } while (!isTerminal(status.body().path("status").asText("Succeeded")));
            failIfNotSucceeded(status.body(), status.body().path("status").asText(), url);
            if (method.equals("PUT") || method.equals("PATCH")) {
                return get(url);
            }
            return method.equals("POST") && location != null ? get(location) : status.body();
        }
        if (location != null && initial.status() == 202) {
            Response result = initial;
            do {
                pause(result, deadline, url);
                result = send("GET", location, null);
            } while (result.status() == 202);
            return result.body();
        }
        Response resource = initial;
        while (method.equals("PUT") && !isTerminal(provisioningState(resource.body()))) {
            pause(resource, deadline, url);
            resource = send("GET", url, null);
        }
        if (method.equals("PUT")) {
            failIfNotSucceeded(resource.body(), provisioningState(resource.body()), url);
        }
        return resource.body();
    }

    private static String provisioningState(JsonNode resource) {
        return resource.path("properties").path("provisioningState")
                .asText(resource.path("provisioningState").asText("Succeeded"));
    }

    private static boolean isTerminal(String state) {
        return TERMINAL_STATES.contains(state.toLowerCase(Locale.ROOT));
    }

    private static void failIfNotSucceeded(JsonNode body, String state, String url) {
        if (!state.equalsIgnoreCase("succeeded")) {
            JsonNode error = body.path("error");
            throw new ServerError(200, error.path("code").asText("Operation" + state),
                    error.path("message").asText("The operation on " + url + " ended " + state + "."));
        }
    }

    /** Waits as long as {@code Retry-After} asks, within bounds that keep a CLI responsive. */
    private static void pause(Response last, Instant deadline, String url) {
        if (Instant.now().isAfter(deadline)) {
            throw new CliError("Gave up waiting for the operation on " + url + " after " + LRO_TIMEOUT.toMinutes()
                    + " minutes; it may still finish on the server.");
        }
        long millis = 500;
        String retryAfter = last.header("Retry-After");
        if (retryAfter != null && retryAfter.matches("\\d{1,4}")) {
            millis = Math.min(5_000, Long.parseLong(retryAfter) * 1000);
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliError("Interrupted while waiting for " + url);
        }
    }

    private HttpResponse<String> exchange(HttpRequest request) {
        String target = request.uri().getScheme() + "://" + request.uri().getAuthority();
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            Throwable cause = rootCause(e);
            if (cause instanceof UnknownHostException || cause instanceof UnresolvedAddressException) {
                throw new CliError("Cannot resolve " + request.uri().getHost() + ": this process resolves names "
                        + "through " + HostsFile.PROPERTY + "=" + System.getProperty(HostsFile.PROPERTY)
                        + ", which does not list it.", e);
            }
            if (e instanceof SSLHandshakeException) {
                throw new CliError("TLS with " + target + " failed (" + e.getMessage() + "): the server's "
                        + "certificate is not the one in the data directory's tls-cert.pem. Check --data-dir.", e);
            }
            if (e instanceof ConnectException) {
                throw new CliError("Cannot reach the Coffre server at " + target + " (connection refused). Is "
                        + "`coffre server` running with this data directory?", e);
            }
            throw new CliError("Request to " + target + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliError("Interrupted while calling " + target, e);
        }
    }

    private static Throwable rootCause(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private ServerError error(int status, String body) {
        JsonNode json = parseBody(body);
        JsonNode error = json.path("error");
        String code;
        String message;
        if (error.isObject()) {
            code = error.path("code").asText("HTTP" + status);
            message = error.path("message").asText("");
        } else if (error.isTextual()) {
            code = error.asText();  // OAuth style {"error":"invalid_client","error_description":".."}
            message = json.path("error_description").asText("");
        } else if (json.hasNonNull("title")) {
            code = "HTTP" + status;  // RFC 7807 problem details, e.g. the web framework's own 404
            message = json.path("title").asText();
        } else {
            code = "HTTP" + status;
            message = body == null || body.isBlank() ? "The server answered " + status + " with no body."
                    : body.strip().substring(0, Math.min(300, body.strip().length()));
        }
        if (status == 401 && token == null) {
            message = message + " " + noTokenHint;
        }
        return new ServerError(status, code, message.strip());
    }

    private static JsonNode parseBody(String body) {
        if (body == null || body.isBlank()) {
            return NullNode.getInstance();
        }
        try {
            return Json.MAPPER.readTree(body);
        } catch (IOException e) {
            return Json.MAPPER.getNodeFactory().textNode(body);
        }
    }
}
