package io.coffre.cli;

import static io.coffre.cli.Urls.encode;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * One role-based access system: Azure RBAC on the management host (scopes are ARM ids) or a Managed HSM's local
 * RBAC on its data plane (scopes {@code /}, {@code /keys}, {@code /keys/NAME}). Both speak
 * {@code {scope}/providers/Microsoft.Authorization/roleDefinitions|roleAssignments/{guid}}; they differ in host,
 * api-version and which filters the server applies.
 */
final class RoleApi {
    static final String ARM_API = "2022-04-01";
    static final String MANAGED_HSM_API = "7.6";
    private static final String PROVIDER = "/providers/Microsoft.Authorization/";

    private final CoffreHttp http;
    private final String base;
    private final String apiVersion;
    private final boolean managedHsm;

    private RoleApi(CoffreHttp http, String base, String apiVersion, boolean managedHsm) {
        this.http = http;
        this.base = base;
        this.apiVersion = apiVersion;
        this.managedHsm = managedHsm;
    }

    static RoleApi arm(CoffreHttp http, String managementBase) {
        return new RoleApi(http, managementBase, ARM_API, false);
    }

    static RoleApi managedHsm(CoffreHttp http, String hsmBase) {
        return new RoleApi(http, hsmBase, MANAGED_HSM_API, true);
    }

    /** {@code /} becomes the empty prefix (no {@code //providers}); other scopes lose a trailing slash. */
    static String scopePath(String scope) {
        if (scope == null || !scope.startsWith("/")) {
            throw new CliError("A scope starts with '/': '/', '/keys', '/keys/NAME' on a Managed HSM, "
                    + "'/subscriptions/ID[/resourceGroups/RG[/providers/...]]' in Azure RBAC; got '" + scope + "'.");
        }
        String trimmed = scope.replaceAll("/+$", "");
        return Urls.path(trimmed);
    }

    private String url(String scope, String collection, String name, String query) {
        return base + scopePath(scope) + PROVIDER + collection + (name == null ? "" : "/" + encode(name))
                + "?" + (query == null ? "" : query + "&") + "api-version=" + apiVersion;
    }

    // Definitions

    /** @param roleName filter (ARM filters on the server, as az asks it to); null for all */
    ArrayNode definitions(String scope, String roleName) {
        String query = !managedHsm && roleName != null
                ? "$filter=" + encode("roleName eq '" + roleName.replace("'", "''") + "'") : null;
        return http.getAll(url(scope, "roleDefinitions", null, query));
    }

    JsonNode definition(String scope, String name) {
        return http.get(url(scope, "roleDefinitions", name, null));
    }

    /** Creates or updates a custom role; the Managed HSM SDK insists on 201. */
    JsonNode putDefinition(String scope, String name, JsonNode body) {
        return http.expect("PUT", url(scope, "roleDefinitions", name, null), body, 201);
    }

    JsonNode deleteDefinition(String scope, String name) {
        return http.delete(url(scope, "roleDefinitions", name, null));
    }

    /**
     * The role definition called {@code role}: a role name (case-insensitive), a definition GUID or a full
     * definition id, looked up among the definitions visible at {@code scope} as az does.
     */
    JsonNode resolveRole(String scope, String role) {
        boolean byName = !role.contains("/") && !role.matches("[0-9a-fA-F-]{36}");
        ArrayNode candidates = definitions(scope, byName ? role : null);
        List<String> names = new ArrayList<>();
        for (JsonNode def : candidates) {
            String roleName = def.path("properties").path("roleName").asText();
            names.add(roleName);
            if (roleName.equalsIgnoreCase(role) || def.path("name").asText().equalsIgnoreCase(role)
                    || def.path("id").asText().equalsIgnoreCase(role)) {
                return def;
            }
        }
        throw new CliError("No role '" + role + "' at scope " + scope
                + (names.isEmpty() ? "." : "; roles there: " + String.join(", ", names) + "."));
    }

    // Assignments

    /** @param principalId ARM filters by principal on the server; the HSM list is filtered by the caller */
    ArrayNode assignments(String scope, String principalId) {
        String query = !managedHsm && principalId != null
                ? "$filter=" + encode("principalId eq '" + principalId + "'") : null;
        return http.getAll(url(scope, "roleAssignments", null, query));
    }

    /** Assigns a role under a fresh GUID (the Managed HSM SDK insists on 201; ARM answers 200 or 201). */
    JsonNode createAssignment(String scope, String roleDefinitionId, String principalId) {
        ObjectNode properties = Json.object();
        properties.put("roleDefinitionId", roleDefinitionId);
        properties.put("principalId", principalId);
        ObjectNode body = Json.object();
        body.set("properties", properties);
        String url = url(scope, "roleAssignments", UUID.randomUUID().toString(), null);
        return managedHsm ? http.expect("PUT", url, body, 201) : http.expect("PUT", url, body, 200, 201);
    }

    /** Deletes an assignment as listed (at its own scope). */
    JsonNode deleteAssignment(JsonNode assignment) {
        return deleteAssignment(assignment.path("properties").path("scope").asText("/"),
                assignment.path("name").asText());
    }

    JsonNode deleteAssignment(String scope, String name) {
        return http.delete(url(scope, "roleAssignments", name, null));
    }

    /** Assigns {@code role} (name, GUID or id, resolved at {@code scope}) to a principal at {@code scope}. */
    JsonNode assign(String scope, String role, String principalId) {
        return createAssignment(scope, resolveRole(scope, role).path("id").asText(), principalId);
    }

    /** The assignments listed at {@code scope} for a principal and role (each null: any). */
    ArrayNode find(String scope, String principalId, String role) {
        JsonNode definition = role == null ? null : resolveRole(scope, role);
        ArrayNode matching = Json.MAPPER.createArrayNode();
        for (JsonNode assignment : assignments(scope, principalId)) {
            if (matches(assignment, principalId, definition)) {
                matching.add(assignment);
            }
        }
        return matching;
    }

    /** Deletes every assignment {@link #find} returns; finding none is an error (nothing to delete). */
    ArrayNode unassign(String scope, String principalId, String role) {
        ArrayNode matching = find(scope, principalId, role);
        if (matching.isEmpty()) {
            throw new CliError("No role assignment at " + scope + " matches"
                    + (principalId == null ? "" : " principal " + principalId)
                    + (role == null ? "" : " and role '" + role + "'") + ".");
        }
        matching.forEach(this::deleteAssignment);
        return matching;
    }

    /** Whether an assignment is for this principal (null: any) and role definition (null: any). */
    static boolean matches(JsonNode assignment, String principalId, JsonNode roleDefinition) {
        JsonNode p = assignment.path("properties");
        boolean principalOk = principalId == null || p.path("principalId").asText().equalsIgnoreCase(principalId);
        boolean roleOk = roleDefinition == null || ResourceIds.lastSegment(p.path("roleDefinitionId").asText())
                .equalsIgnoreCase(roleDefinition.path("name").asText());
        return principalOk && roleOk;
    }
}
