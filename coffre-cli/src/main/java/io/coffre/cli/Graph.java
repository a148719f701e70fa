package io.coffre.cli;

import static io.coffre.cli.Urls.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.coffre.json.Json;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/** The Graph-shaped directory on the management host: service principals and their secrets. */
final class Graph {
    private static final Pattern GUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private final CoffreHttp http;
    private final String base;

    Graph(CoffreHttp http, String base) {
        this.http = http;
        this.base = base + "/v1.0/servicePrincipals";
    }

    /** @return the new principal, with its one-time secret in {@code passwordCredentials[0].secretText} */
    JsonNode createServicePrincipal(String displayName) {
        return http.expect("POST", base, Json.object().put("displayName", displayName), 201);
    }

    /** @param id object id or app id */
    JsonNode servicePrincipal(String id) {
        return http.get(base + "/" + encode(id));
    }

    /** @param filter an OData filter such as {@code displayName eq 'x'}, or null for all */
    ArrayNode servicePrincipals(String filter) {
        return http.getAll(filter == null ? base : base + "?$filter=" + encode(filter));
    }

    /** Replaces the principal's secrets with a new one ({@code {keyId, secretText}}). */
    JsonNode addPassword(String objectId) {
        return http.post(base + "/" + encode(objectId) + "/addPassword", Json.object());
    }

    /** The object id of the principal whose service principal names include {@code appId}, as az looks up --spn. */
    String objectIdBySpn(String appId) {
        ArrayNode found = servicePrincipals("servicePrincipalNames/any(c:c eq '" + appId.replace("'", "''") + "')");
        if (found.size() != 1) {
            throw new CliError("Found " + found.size() + " service principals named '" + appId
                    + "'; expected exactly one (`coffre ad sp list` shows them).");
        }
        return found.get(0).path("id").asText();
    }

    /**
     * The object id for an {@code --assignee}: an object id or app id the directory knows, or (as az falls back)
     * a GUID the directory does not know, used as an object id with a warning.
     */
    String resolveObjectId(String assignee, Consumer<String> warn) {
        try {
            return servicePrincipal(assignee).path("id").asText();
        } catch (ServerError e) {
            if (e.status() == 404 && GUID.matcher(assignee).matches()) {
                warn.accept("No service principal '" + assignee + "' in the directory; using it as an object id.");
                return assignee;
            }
            throw e;
        }
    }
}
