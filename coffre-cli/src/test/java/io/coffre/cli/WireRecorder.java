package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.coffre.json.Json;
import io.coffre.server.ServerConfig;
import io.coffre.server.TlsMaterial;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * An HTTPS endpoint that records what the CLI sends and answers with scripted responses, so the CLI's requests
 * (method, path, api-version, body) can be checked against the Azure wire shapes before the real routes exist.
 * It stands in for the server's answers only; TLS, name resolution and the CLI's own code are real.
 */
final class WireRecorder implements AutoCloseable {
    record Request(String method, String pathAndQuery, String host, String authorization, JsonNode body) {
        String line() {
            return method + " " + pathAndQuery;
        }
    }

    record Reply(int status, String body, Map<String, String> headers) {
        static Reply json(int status, String body) {
            return new Reply(status, body, Map.of());
        }
    }

    private record Rule(String method, Pattern path, Function<Request, Reply> reply) {
    }

    static final String OBJECT_ID = "11111111-2222-3333-4444-555555555555";
    static final String TENANT_ID = "tttttttt-0000-0000-0000-000000000001";

    private final Path dataDir;
    private final HttpsServer server;
    private final List<Rule> rules = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();

    WireRecorder(Path dataDir) throws Exception {
        this.dataDir = dataDir;
        ServerConfig config = ServerConfig.defaults(dataDir);
        TlsMaterial tls = TlsMaterial.loadOrGenerate(config);
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(tls.keyStore("x".toCharArray()), "x".toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        server.createContext("/", this::handle);
        server.start();
        Files.writeString(dataDir.resolve("server.json"), "{\"port\":" + port()
                + ",\"dnsSuffix\":\"coffre.localhost\",\"bindHost\":\"127.0.0.1\"}");
        // A token shaped like the server's admin token; the recorder never checks signatures.
        String claims = "{\"oid\":\"" + OBJECT_ID + "\",\"tid\":\"" + TENANT_ID + "\"}";
        Files.writeString(dataDir.resolve(Session.ADMIN_TOKEN_FILE), "eyJhbGciOiJSUzI1NiJ9."
                + Base64.getUrlEncoder().withoutPadding().encodeToString(claims.getBytes(StandardCharsets.UTF_8))
                + ".c2ln");
        on("GET", "/subscriptions\\?api-version=2022-12-01", r -> Reply.json(200,
                "{\"value\":[{\"subscriptionId\":\"sub1\",\"tenantId\":\"" + TENANT_ID + "\"}]}"));
    }

    int port() {
        return server.getAddress().getPort();
    }

    Path dataDir() {
        return dataDir;
    }

    /** Answers requests whose method matches and whose path-and-query matches {@code regex} in full; latest wins. */
    WireRecorder on(String method, String regex, Function<Request, Reply> reply) {
        rules.add(0, new Rule(method, Pattern.compile(regex), reply));
        return this;
    }

    WireRecorder on(String method, String regex, int status, String body) {
        return on(method, regex, r -> Reply.json(status, body));
    }

    List<Request> requests() {
        return new ArrayList<>(requests);
    }

    List<String> lines() {
        return requests.stream().map(Request::line).toList();
    }

    Request last(String method) {
        return requests.stream().filter(r -> r.method().equals(method)).reduce((a, b) -> b).orElseThrow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        String text = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Request request = new Request(exchange.getRequestMethod(), exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery()),
                exchange.getRequestHeaders().getFirst("Host"), exchange.getRequestHeaders().getFirst("Authorization"),
                text.isEmpty() ? null : Json.parse(text));
        requests.add(request);
        Reply reply = rules.stream()
                .filter(rule -> rule.method().equals(request.method()) && rule.path().matcher(request.pathAndQuery()).matches())
                .findFirst().map(rule -> rule.reply().apply(request))
                .orElse(Reply.json(404, "{\"error\":{\"code\":\"NotScripted\",\"message\":\"" + request.line() + "\"}}"));
        reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] body = reply.body() == null ? new byte[0] : reply.body().getBytes(StandardCharsets.UTF_8);
        if (body.length > 0) {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
        }
        exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
        if (body.length > 0) {
            exchange.getResponseBody().write(body);
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
        QuickstartCommand.deleteRecursively(dataDir);
    }
}
