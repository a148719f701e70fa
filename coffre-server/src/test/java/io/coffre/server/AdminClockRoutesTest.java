package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AdminClockRoutesTest {
    private static HttpResponse<String> advance(TestServer s, String host, String body) {
        return advance(s, host, body, s.adminToken());
    }

    private static HttpResponse<String> advance(TestServer s, String host, String body, String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.url(host) + "/admin/clock/advance"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return s.send(b);
    }

    @Test
    void onlyTheServerAdministratorMovesTheClock() {
        try (TestServer s = TestServer.start(true)) {
            assertThat(advance(s, "localhost", "{\"duration\":\"PT1H\"}", null).statusCode()).isEqualTo(401);
            var core = s.server().core();
            String stranger = core.identity().issueToken(core.identity().createServicePrincipal("stranger").principal(),
                    java.util.List.of(core.endpoints().managementResource()), Duration.ofHours(1));
            HttpResponse<String> r = advance(s, "localhost", "{\"duration\":\"PT1H\"}", stranger);
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("AuthorizationFailed");
        }
    }

    @Test
    void advancesAManualClock() {
        try (TestServer s = TestServer.start(true)) {
            Instant before = Instant.parse(Json.parse(s.get("localhost", "/admin/clock", s.adminToken()).body())
                    .path("now").asText());
            HttpResponse<String> r = advance(s, "management.coffre.localhost", "{\"duration\":\"P30D\"}");
            assertThat(r.statusCode()).isEqualTo(200);
            Instant after = Instant.parse(Json.parse(r.body()).path("now").asText());
            assertThat(Duration.between(before, after)).isBetween(Duration.ofDays(30), Duration.ofDays(30).plusMinutes(1));
            JsonNode clock = Json.parse(s.get("localhost", "/admin/clock", s.adminToken()).body());
            assertThat(clock.path("manual").asBoolean()).isTrue();
            assertThat(Instant.parse(clock.path("now").asText())).isAfterOrEqualTo(after);
        }
    }

    @Test
    void refusesToAdvanceTheSystemClock() {
        try (TestServer s = TestServer.start(false)) {
            HttpResponse<String> r = advance(s, "localhost", "{\"duration\":\"PT1H\"}");
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).contains("ClockNotManual");
            assertThat(s.get("localhost", "/admin/clock", s.adminToken()).body()).contains("\"manual\":false");
        }
    }

    @Test
    void rejectsBadDurations() {
        try (TestServer s = TestServer.start(true)) {
            for (String body : new String[] {"{}", "{\"duration\":\"P1M\"}", "{\"duration\":\"-PT1H\"}", "not json"}) {
                HttpResponse<String> r = advance(s, "localhost", body);
                assertThat(r.statusCode()).as(body).isEqualTo(400);
                assertThat(r.body()).as(body).contains("BadParameter");
            }
        }
    }

    @Test
    void isNotServedOnKeyServiceHosts() {
        try (TestServer s = TestServer.start(true)) {
            assertThat(advance(s, "kv1.vault.coffre.localhost", "{\"duration\":\"PT1H\"}").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void writesServerJsonOnStart() throws Exception {
        try (TestServer s = TestServer.start()) {
            JsonNode info = Json.parse(Files.readString(s.dataDir().resolve(ServerInfoFile.FILE)));
            assertThat(info.path("port").asInt()).isEqualTo(s.port());
            assertThat(info.path("dnsSuffix").asText()).isEqualTo("coffre.localhost");
            assertThat(info.path("bindHost").asText()).isEqualTo("127.0.0.1");
        }
    }
}
