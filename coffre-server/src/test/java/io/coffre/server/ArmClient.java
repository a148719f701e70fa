package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

/** Management-plane calls against a {@link TestServer}, as a given principal (the administrator by default). */
final class ArmClient {
    static final String HOST = "management.coffre.localhost";

    private final TestServer server;
    private final String token;

    ArmClient(TestServer server, Principal principal) {
        this.server = server;
        var core = server.server().core();
        this.token = principal == null ? null : core.identity().issueToken(principal,
                List.of(core.endpoints().managementResource()), Duration.ofHours(1));
    }

    static ArmClient admin(TestServer server) {
        return new ArmClient(server, server.server().core().identity().admin());
    }

    static ArmClient anonymous(TestServer server) {
        return new ArmClient(server, null);
    }

    String subscriptionId() {
        return server.server().core().identity().defaultSubscriptionId();
    }

    HttpResponse<String> get(String pathAndQuery) {
        return send("GET", pathAndQuery, null);
    }

    HttpResponse<String> send(String method, String pathAndQuery, String jsonBody) {
        return sendTo(HOST, method, pathAndQuery, jsonBody);
    }

    HttpResponse<String> sendTo(String host, String method, String pathAndQuery, String jsonBody) {
        return sendUrl(method, server.url(host) + pathAndQuery, jsonBody);
    }

    HttpResponse<String> sendUrl(String method, String url, String jsonBody) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
                jsonBody == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(jsonBody));
        if (jsonBody != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return server.send(b);
    }

    static JsonNode json(HttpResponse<String> response) {
        return Json.parse(response.body());
    }
}
