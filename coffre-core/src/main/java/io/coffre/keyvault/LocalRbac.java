package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Page;
import io.coffre.store.StoreConflictException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/**
 * Managed HSM local RBAC: role definitions (the built-ins plus custom ones at scope {@code /}), role assignments at
 * {@code /}, {@code /keys} and {@code /keys/{name}}, and the check every HSM data-plane call goes through. An
 * assignment grants on its scope and below: one at {@code /keys/k1} grants nothing on {@code k2}.
 *
 * <p>Deleting a custom role that assignments still name is allowed, as the service allows it: those assignments
 * stay listed but are defunct (they grant nothing), and re-creating a role with the same GUID revives them.
 */
final class LocalRbac {
    static final String DEFINITION_ID_PREFIX = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/";
    private static final Pattern GUID = Pattern.compile(
            "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$");
    private static final Pattern DEFINITION_REFERENCE = Pattern.compile(
            "(?i)^(?:/?Microsoft\\.KeyVault)?/?(?:providers/Microsoft\\.Authorization/roleDefinitions/)?"
                    + "([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$");
    private static final Pattern PRINCIPAL_FILTER = Pattern.compile("(?i)^principalId\\s+eq\\s+'([^']*)'$");
    private static final Pattern ROLE_NAME_FILTER = Pattern.compile("(?i)^roleName\\s+eq\\s+'([^']*)'$");
    private static final String DEFINITIONS_READ = KeyPermission.HSM_PREFIX + "roleDefinitions/read/action";
    private static final String DEFINITIONS_WRITE = KeyPermission.HSM_PREFIX + "roleDefinitions/write/action";
    private static final String DEFINITIONS_DELETE = KeyPermission.HSM_PREFIX + "roleDefinitions/delete/action";
    private static final String ASSIGNMENTS_READ = KeyPermission.HSM_PREFIX + "roleAssignments/read/action";
    private static final String ASSIGNMENTS_WRITE = KeyPermission.HSM_PREFIX + "roleAssignments/write/action";
    private static final String ASSIGNMENTS_DELETE = KeyPermission.HSM_PREFIX + "roleAssignments/delete/action";

    private final Services services;

    LocalRbac(Services services) {
        this.services = services;
    }

    static boolean isGuid(String text) {
        return text != null && GUID.matcher(text).matches();
    }

    // ---- the check ----

    /** Throws 403 naming the data action and scope unless an assignment of the caller grants it there. */
    void require(Handle h, Principal caller, StoreRecord hsm, String scope, String dataAction) {
        if (!isAllowed(h, hsm, caller.objectId(), scope, dataAction)) {
            throw ArmException.forbidden("ForbiddenByRbac", "Caller is not authorized to perform action on resource."
                    + "\nCaller: " + services.describeCaller(caller) + "\nAction: '" + dataAction + "'\nScope: '"
                    + scope + "'\nManaged HSM: " + hsm.describe() + "\nAssign the caller a role that grants '"
                    + dataAction + "' at scope '" + scope + "'" + (scope.equals("/") ? "" : " or above it")
                    + " (a role assignment of this managed HSM's local RBAC).");
        }
    }

    boolean isAllowed(Handle h, StoreRecord hsm, String principalId, String scope, String dataAction) {
        List<String> covering = coveringScopes(scope);
        for (Assignment a : assignmentsOf(h, hsm.storeId(), principalId)) {
            if (!covering.contains(a.scope.toLowerCase(Locale.ROOT))) {
                continue;
            }
            Optional<Definition> definition = definition(h, hsm.storeId(), a.roleDefinition);
            if (definition.isPresent() && definition.get().grants(dataAction)) {
                return true;
            }
        }
        return false;
    }

    /** {@code /keys/k1} is covered by assignments at {@code /}, {@code /keys} and {@code /keys/k1}. */
    private static List<String> coveringScopes(String scope) {
        List<String> scopes = new ArrayList<>(List.of("/"));
        if (scope.startsWith("/keys")) {
            scopes.add("/keys");
        }
        if (scope.startsWith("/keys/")) {
            scopes.add(scope.toLowerCase(Locale.ROOT));
        }
        return scopes;
    }

    /** Normalizes {@code ""}, {@code //}, {@code /keys/} and friends to {@code /}, {@code /keys} or {@code /keys/name}. */
    static String scope(String given) {
        String s = given == null ? "" : given.trim().replaceAll("/{2,}", "/");
        if (!s.startsWith("/")) {
            s = "/" + s;
        }
        while (s.length() > 1 && s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.equals("/") || s.equalsIgnoreCase("/keys")) {
            return s.toLowerCase(Locale.ROOT);
        }
        if (s.toLowerCase(Locale.ROOT).startsWith("/keys/") && KeyNames.isValid(s.substring(6))) {
            return "/keys/" + s.substring(6);
        }
        throw ArmException.badRequest("BadParameter", "The scope '" + given + "' is not valid for a managed HSM;"
                + " use '/', '/keys' or '/keys/{key name}'.");
    }

    // ---- role definitions ----

    Page listDefinitions(Principal caller, StoreRecord hsm, String scope, String filter) {
        String normalized = scope(scope);
        String roleName = null;
        if (filter != null && !filter.isBlank()) {
            Matcher m = ROLE_NAME_FILTER.matcher(filter.trim());
            if (!m.matches()) {
                throw unsupportedFilter(filter, "roleName eq '{name}'");
            }
            roleName = m.group(1);
        }
        String wanted = roleName;
        return services.metadata().withHandle(h -> {
            require(h, caller, hsm, normalized, DEFINITIONS_READ);
            List<ObjectNode> value = allDefinitions(h, hsm.storeId()).stream()
                    .filter(d -> wanted == null || d.roleName.equalsIgnoreCase(wanted))
                    .map(Definition::render).toList();
            return new Page(value, null);
        });
    }

    ObjectNode getDefinition(Principal caller, StoreRecord hsm, String scope, String name) {
        String normalized = scope(scope);
        return services.metadata().withHandle(h -> {
            require(h, caller, hsm, normalized, DEFINITIONS_READ);
            return definition(h, hsm.storeId(), name).orElseThrow(() -> definitionNotFound(name)).render();
        });
    }

    ObjectNode putDefinition(Principal caller, StoreRecord hsm, String scope, String name, JsonNode body) {
        String normalized = scope(scope);
        if (!normalized.equals("/")) {
            throw ArmException.badRequest("BadParameter", "Role definitions can only be created at scope '/' of a"
                    + " managed HSM (got '" + normalized + "'). Create it at '/' and assign it at any scope.");
        }
        requireGuid(name, "role definition name");
        if (BuiltInRoles.find(name).isPresent()) {
            throw ArmException.badRequest("BadParameter", "Role definition '" + name + "' is built in ("
                    + BuiltInRoles.find(name).get().roleName() + ") and cannot be changed. Create a custom role with"
                    + " a new GUID instead.");
        }
        Definition requested = parseDefinition(name.toLowerCase(Locale.ROOT), body);
        long now = services.now();
        return services.metadata().inTransaction(h -> {
            require(h, caller, hsm, normalized, DEFINITIONS_WRITE);
            for (Definition other : allDefinitions(h, hsm.storeId())) {
                if (!other.name.equalsIgnoreCase(requested.name) && other.roleName.equalsIgnoreCase(requested.roleName)) {
                    throw ArmException.conflict("RoleDefinitionWithSameNameExists", "A role definition named '"
                            + requested.roleName + "' already exists (" + other.name + "); role names are unique.");
                }
            }
            int updated = h.createUpdate("UPDATE kv_role_definitions SET role_name = :roleName,"
                            + " description = :description, permissions = :permissions, updated_at = :now"
                            + " WHERE store_id = :store AND name = :name")
                    .bind("roleName", requested.roleName).bind("description", requested.description)
                    .bind("permissions", Json.write(requested.permissions)).bind("now", now)
                    .bind("store", hsm.storeId()).bind("name", requested.name).execute();
            if (updated == 0) {
                h.createUpdate("INSERT INTO kv_role_definitions (store_id, name, role_name, description, permissions,"
                                + " created_at, updated_at) VALUES (:store, :name, :roleName, :description,"
                                + " :permissions, :now, :now)")
                        .bind("store", hsm.storeId()).bind("name", requested.name)
                        .bind("roleName", requested.roleName).bind("description", requested.description)
                        .bind("permissions", Json.write(requested.permissions)).bind("now", now).execute();
            }
            return requested.render();
        });
    }

    ObjectNode deleteDefinition(Principal caller, StoreRecord hsm, String scope, String name) {
        String normalized = scope(scope);
        if (BuiltInRoles.find(name).isPresent()) {
            throw ArmException.badRequest("BadParameter", "Role definition '" + name + "' is built in ("
                    + BuiltInRoles.find(name).get().roleName() + ") and cannot be deleted.");
        }
        return services.metadata().inTransaction(h -> {
            require(h, caller, hsm, normalized, DEFINITIONS_DELETE);
            Definition existing = definition(h, hsm.storeId(), name).orElseThrow(() -> definitionNotFound(name));
            h.createUpdate("DELETE FROM kv_role_definitions WHERE store_id = :store AND name = :name")
                    .bind("store", hsm.storeId()).bind("name", existing.name).execute();
            return existing.render();
        });
    }

    // ---- role assignments ----

    Page listAssignments(Principal caller, StoreRecord hsm, String scope, String filter) {
        String normalized = scope(scope);
        boolean atScopeOnly = false;
        String principal = null;
        if (filter != null && !filter.isBlank()) {
            for (String clause : filter.trim().split("(?i)\\s+and\\s+")) {
                Matcher m = PRINCIPAL_FILTER.matcher(clause.trim());
                if (clause.trim().equalsIgnoreCase("atScope()")) {
                    atScopeOnly = true;
                } else if (m.matches()) {
                    principal = m.group(1);
                } else {
                    throw unsupportedFilter(filter, "atScope(), principalId eq '{id}', or both joined by 'and'");
                }
            }
        }
        boolean exact = atScopeOnly;
        String wantedPrincipal = principal;
        // Listing shows assignments at the scope and above it, never below: per-key ones appear only at their key.
        List<String> visible = exact ? List.of(normalized.toLowerCase(Locale.ROOT)) : coveringScopes(normalized);
        return services.metadata().withHandle(h -> {
            require(h, caller, hsm, normalized, ASSIGNMENTS_READ);
            List<ObjectNode> value = allAssignments(h, hsm.storeId()).stream()
                    .filter(a -> visible.contains(a.scope.toLowerCase(Locale.ROOT)))
                    .filter(a -> wantedPrincipal == null || a.principalId.equalsIgnoreCase(wantedPrincipal))
                    .map(Assignment::render).toList();
            return new Page(value, null);
        });
    }

    ObjectNode getAssignment(Principal caller, StoreRecord hsm, String scope, String name) {
        String normalized = scope(scope);
        return services.metadata().withHandle(h -> {
            require(h, caller, hsm, normalized, ASSIGNMENTS_READ);
            return assignment(h, hsm.storeId(), name).orElseThrow(() -> assignmentNotFound(name)).render();
        });
    }

    ObjectNode putAssignment(Principal caller, StoreRecord hsm, String scope, String name, JsonNode body) {
        String normalized = scope(scope);
        requireGuid(name, "role assignment name");
        JsonNode properties = body.path("properties");
        String definitionReference = properties.path("roleDefinitionId").asText("");
        Matcher m = DEFINITION_REFERENCE.matcher(definitionReference.trim());
        if (!m.matches()) {
            throw ArmException.badRequest("BadParameter", "properties.roleDefinitionId is required: '"
                    + DEFINITION_ID_PREFIX + "{GUID}' (got '" + definitionReference + "').");
        }
        String definitionName = m.group(1).toLowerCase(Locale.ROOT);
        String principalReference = properties.path("principalId").asText("");
        // Callers may name the principal by object id or app id; assignments always hold the object id.
        Principal principal = services.identity().find(principalReference).orElseThrow(() ->
                ArmException.badRequest("PrincipalNotFound", "Principal '" + principalReference + "' does not exist"
                        + " in the directory of tenant " + services.identity().tenantId() + ". Give the object id of"
                        + " a user, service principal or managed identity."));
        long now = services.now();
        try {
            return services.metadata().inTransaction(h -> {
                require(h, caller, hsm, normalized, ASSIGNMENTS_WRITE);
                if (definition(h, hsm.storeId(), definitionName).isEmpty()) {
                    throw ArmException.badRequest("RoleDefinitionDoesNotExist", "The role definition '"
                            + definitionName + "' does not exist in this managed HSM. List role definitions to find"
                            + " the GUID of the role to assign.");
                }
                Assignment wanted = new Assignment(name.toLowerCase(Locale.ROOT), normalized, definitionName,
                        principal.objectId());
                Optional<Assignment> sameName = assignment(h, hsm.storeId(), wanted.name);
                if (sameName.isPresent()) {
                    if (sameName.get().sameGrant(wanted)) {
                        return sameName.get().render();
                    }
                    throw ArmException.conflict("RoleAssignmentUpdateNotPermitted", "Role assignment '" + name
                            + "' exists with another scope, role or principal; assignments cannot be changed."
                            + " Delete it first or use a new GUID.");
                }
                for (Assignment other : allAssignments(h, hsm.storeId())) {
                    if (other.sameGrant(wanted)) {
                        throw ArmException.conflict("RoleAssignmentExists", "The role assignment already exists as '"
                                + other.name + "' (same principal, role and scope).");
                    }
                }
                insertAssignment(h, hsm.storeId(), wanted.name, wanted.scope, wanted.roleDefinition,
                        wanted.principalId, now);
                return wanted.render();
            });
        } catch (StoreConflictException raced) {
            throw ArmException.conflict("RoleAssignmentExists", "Role assignment '" + name + "' was created"
                    + " concurrently; read it back.");
        }
    }

    ObjectNode deleteAssignment(Principal caller, StoreRecord hsm, String scope, String name) {
        String normalized = scope(scope);
        return services.metadata().inTransaction(h -> {
            require(h, caller, hsm, normalized, ASSIGNMENTS_DELETE);
            Assignment existing = assignment(h, hsm.storeId(), name).orElseThrow(() -> assignmentNotFound(name));
            h.createUpdate("DELETE FROM kv_role_assignments WHERE store_id = :store AND name = :name")
                    .bind("store", hsm.storeId()).bind("name", existing.name).execute();
            return existing.render();
        });
    }

    static void insertAssignment(Handle h, String storeId, String name, String scope, String roleDefinition,
                                 String principalId, long now) {
        h.createUpdate("INSERT INTO kv_role_assignments (store_id, name, scope, role_definition, principal_id,"
                        + " created_at) VALUES (:store, :name, :scope, :role, :principal, :now)")
                .bind("store", storeId).bind("name", name).bind("scope", scope).bind("role", roleDefinition)
                .bind("principal", principalId.toLowerCase(Locale.ROOT)).bind("now", now).execute();
    }

    // ---- model ----

    private record Definition(String name, String roleName, String description, String type, ArrayNode permissions) {
        boolean grants(String dataAction) {
            for (JsonNode permission : permissions) {
                if (matchesAny(permission.path("dataActions"), dataAction)
                        && !matchesAny(permission.path("notDataActions"), dataAction)) {
                    return true;
                }
            }
            return false;
        }

        ObjectNode render() {
            ObjectNode node = Json.object();
            node.put("id", DEFINITION_ID_PREFIX + name);
            node.put("name", name);
            node.put("type", "Microsoft.Authorization/roleDefinitions");
            ObjectNode properties = node.putObject("properties");
            properties.put("roleName", roleName);
            properties.put("description", description);
            properties.put("type", type);
            properties.set("permissions", permissions);
            properties.putArray("assignableScopes").add("/");
            return node;
        }
    }

    private record Assignment(String name, String scope, String roleDefinition, String principalId) {
        boolean sameGrant(Assignment other) {
            return scope.equalsIgnoreCase(other.scope) && roleDefinition.equalsIgnoreCase(other.roleDefinition)
                    && principalId.equalsIgnoreCase(other.principalId);
        }

        ObjectNode render() {
            ObjectNode node = Json.object();
            node.put("id", (scope.equals("/") ? "" : scope) + "/providers/Microsoft.Authorization/roleAssignments/"
                    + name);
            node.put("name", name);
            node.put("type", "Microsoft.Authorization/roleAssignments");
            ObjectNode properties = node.putObject("properties");
            properties.put("scope", scope);
            properties.put("roleDefinitionId", DEFINITION_ID_PREFIX + roleDefinition);
            properties.put("principalId", principalId);
            return node;
        }
    }

    private static boolean matchesAny(JsonNode patterns, String action) {
        for (JsonNode p : patterns) {
            String pattern = p.asText();
            if (pattern.endsWith("*") ? action.toLowerCase(Locale.ROOT).startsWith(
                    pattern.substring(0, pattern.length() - 1).toLowerCase(Locale.ROOT))
                    : pattern.equalsIgnoreCase(action)) {
                return true;
            }
        }
        return false;
    }

    private static Definition builtIn(BuiltInRoles.Role role) {
        ArrayNode permissions = Json.MAPPER.createArrayNode();
        ObjectNode permission = permissions.addObject();
        role.actions().forEach(permission.putArray("actions")::add);
        permission.putArray("notActions");
        role.dataActions().forEach(permission.putArray("dataActions")::add);
        permission.putArray("notDataActions");
        return new Definition(role.name(), role.roleName(), role.description(), "AKVBuiltInRole", permissions);
    }

    private static List<Definition> allDefinitions(Handle h, String storeId) {
        List<Definition> all = new ArrayList<>(BuiltInRoles.ALL.stream().map(LocalRbac::builtIn).toList());
        all.addAll(h.createQuery("SELECT * FROM kv_role_definitions WHERE store_id = :store ORDER BY role_name")
                .bind("store", storeId).map((rs, ctx) -> customDefinition(rs)).list());
        return all;
    }

    private static Optional<Definition> definition(Handle h, String storeId, String name) {
        Optional<BuiltInRoles.Role> builtIn = BuiltInRoles.find(name);
        if (builtIn.isPresent()) {
            return builtIn.map(LocalRbac::builtIn);
        }
        return h.createQuery("SELECT * FROM kv_role_definitions WHERE store_id = :store AND name = :name")
                .bind("store", storeId).bind("name", name.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> customDefinition(rs)).findOne();
    }

    private static Definition customDefinition(ResultSet rs) throws SQLException {
        return new Definition(rs.getString("name"), rs.getString("role_name"), rs.getString("description"),
                "CustomRole", (ArrayNode) Rows.read(rs.getString("permissions")));
    }

    private static List<Assignment> allAssignments(Handle h, String storeId) {
        return h.createQuery("SELECT * FROM kv_role_assignments WHERE store_id = :store ORDER BY created_at, name")
                .bind("store", storeId).map((rs, ctx) -> assignment(rs)).list();
    }

    private static List<Assignment> assignmentsOf(Handle h, String storeId, String principalId) {
        return h.createQuery("SELECT * FROM kv_role_assignments WHERE store_id = :store AND principal_id = :principal")
                .bind("store", storeId).bind("principal", principalId.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> assignment(rs)).list();
    }

    private static Optional<Assignment> assignment(Handle h, String storeId, String name) {
        return h.createQuery("SELECT * FROM kv_role_assignments WHERE store_id = :store AND name = :name")
                .bind("store", storeId).bind("name", name.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> assignment(rs)).findOne();
    }

    private static Assignment assignment(ResultSet rs) throws SQLException {
        return new Assignment(rs.getString("name"), rs.getString("scope"), rs.getString("role_definition"),
                rs.getString("principal_id"));
    }

    /** A custom role: a name, and permissions whose data actions are the service's (or wildcards of them). */
    private static Definition parseDefinition(String name, JsonNode body) {
        JsonNode properties = body.path("properties");
        String roleName = properties.path("roleName").asText("").trim();
        if (roleName.isEmpty()) {
            throw ArmException.badRequest("BadParameter", "properties.roleName is required.");
        }
        String type = properties.path("type").asText("CustomRole");
        if (!type.equalsIgnoreCase("CustomRole")) {
            throw ArmException.badRequest("BadParameter", "properties.type must be 'CustomRole' (got '" + type
                    + "'); built-in roles cannot be created.");
        }
        JsonNode scopes = properties.path("assignableScopes");
        if (scopes.isArray()) {
            for (JsonNode s : scopes) {
                if (!scope(s.asText()).equals("/")) {
                    throw ArmException.badRequest("BadParameter", "assignableScopes of a managed HSM role can only"
                            + " be ['/'] (got " + scopes + ").");
                }
            }
        }
        JsonNode given = properties.path("permissions");
        if (!given.isArray() || given.isEmpty()) {
            throw ArmException.badRequest("BadParameter", "properties.permissions is required: [{\"dataActions\":"
                    + " [...], \"notDataActions\": [...]}].");
        }
        ArrayNode permissions = Json.MAPPER.createArrayNode();
        for (JsonNode p : given) {
            ObjectNode permission = permissions.addObject();
            for (String field : List.of("actions", "notActions", "dataActions", "notDataActions")) {
                ArrayNode list = permission.putArray(field);
                JsonNode values = p.path(field);
                if (!values.isMissingNode() && !values.isNull() && !values.isArray()) {
                    throw ArmException.badRequest("BadParameter", "permissions[]." + field + " must be an array.");
                }
                for (JsonNode v : values) {
                    String action = v.asText("");
                    if (field.endsWith("ataActions")) {
                        requireKnownDataAction(action);
                    }
                    list.add(action);
                }
            }
        }
        return new Definition(name, roleName, properties.path("description").asText(""), "CustomRole", permissions);
    }

    private static void requireKnownDataAction(String action) {
        boolean known = action.endsWith("*")
                ? action.regionMatches(true, 0, KeyPermission.HSM_PREFIX, 0,
                Math.min(action.length() - 1, KeyPermission.HSM_PREFIX.length()))
                : BuiltInRoles.DATA_ACTIONS.stream().anyMatch(action::equalsIgnoreCase);
        if (!known) {
            throw ArmException.badRequest("BadParameter", "'" + action + "' is not a Managed HSM data action."
                    + " Valid data actions: " + String.join(", ", BuiltInRoles.DATA_ACTIONS)
                    + " (or a prefix of them ending in '*').");
        }
    }

    private static void requireGuid(String name, String what) {
        if (!isGuid(name)) {
            throw ArmException.badRequest("BadParameter", "The " + what + " must be a GUID (got '" + name + "').");
        }
    }

    private static ArmException unsupportedFilter(String filter, String supported) {
        return ArmException.badRequest("BadParameter", "The $filter '" + filter + "' is not supported here; use "
                + supported + ".");
    }

    private static ArmException definitionNotFound(String name) {
        return ArmException.notFound("RoleDefinitionNotFound", "The role definition '" + name + "' was not found.");
    }

    private static ArmException assignmentNotFound(String name) {
        return ArmException.notFound("RoleAssignmentNotFound", "The role assignment '" + name + "' was not found.");
    }
}
