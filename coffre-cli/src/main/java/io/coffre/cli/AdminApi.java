package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.time.Duration;

/** Coffre's own management endpoints: the server clock and the audit log. */
final class AdminApi {
    private final CoffreHttp http;
    private final String base;

    AdminApi(CoffreHttp http, String managementBase) {
        this.http = http;
        this.base = managementBase + "/admin";
    }

    JsonNode clock() {
        return http.get(base + "/clock");
    }

    JsonNode advanceClock(Duration by) {
        return http.post(base + "/clock/advance", Json.object().put("duration", by.toString()));
    }

    /** @param prefix resource prefix, or null; @param top at most this many entries, or null for the default */
    JsonNode audit(String prefix, Integer top) {
        StringBuilder url = new StringBuilder(base + "/audit");
        String sep = "?";
        if (prefix != null) {
            url.append(sep).append("prefix=").append(Urls.encode(prefix));
            sep = "&";
        }
        if (top != null) {
            url.append(sep).append("top=").append(top);
        }
        return http.get(url.toString());
    }

    JsonNode verifyAudit() {
        return http.get(base + "/audit/verify");
    }
}
