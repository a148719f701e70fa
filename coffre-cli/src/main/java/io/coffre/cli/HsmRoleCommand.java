package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "role", description = "Manage a managed HSM's local RBAC: role definitions and assignments.",
        subcommands = {HsmRoleCommand.Definition.class, HsmRoleCommand.Assignment.class})
final class HsmRoleCommand {
    static final List<Output.Column> DEFINITION_COLUMNS = List.of(field("RoleName", "properties.roleName"),
            field("Name", "name"), field("Type", "properties.type"), field("Description", "properties.description"));
    static final List<Output.Column> ASSIGNMENT_COLUMNS = List.of(field("Name", "name"),
            field("PrincipalId", "properties.principalId"), field("RoleDefinitionId", "properties.roleDefinitionId"),
            field("Scope", "properties.scope"));

    @Command(name = "definition", description = "Manage role definitions (scope /).")
    static final class Definition extends CliCommand {
        @Command(name = "create", description = "Create or update a custom role.")
        int create(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                   @Option(names = "--role-definition", required = true, paramLabel = "JSON|@FILE",
                           description = "{\"roleName\",\"description\",\"dataActions\":[...],\"notDataActions\":[]}")
                   String definition,
                   @Option(names = "--name", paramLabel = "GUID",
                           description = "Definition id (default: the JSON's 'name', else a new GUID).") String name) {
            JsonNode input = JsonArgs.read(definition, "--role-definition");
            String id = name != null ? name : input.path("name").asText(UUID.randomUUID().toString());
            ObjectNode body = Json.object();
            body.set("properties", definitionProperties(input));
            return print(session().hsmRoles(hsm).putDefinition("/", id, body), DEFINITION_COLUMNS);
        }

        @Command(name = "list", description = "List role definitions.")
        int list(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                 @Option(names = "--scope", defaultValue = "/", paramLabel = "SCOPE") String scope,
                 @Option(names = "--custom-role-only", description = "Only custom roles.") boolean customOnly) {
            ArrayNode all = session().hsmRoles(hsm).definitions(scope, null);
            if (customOnly) {
                ArrayNode custom = Json.MAPPER.createArrayNode();
                all.forEach(d -> {
                    if (d.path("properties").path("type").asText().equals("CustomRole")) {
                        custom.add(d);
                    }
                });
                all = custom;
            }
            return print(all, DEFINITION_COLUMNS);
        }

        @Command(name = "show", description = "Show a role definition.")
        int show(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                 @Option(names = "--name", required = true, paramLabel = "GUID") String name) {
            return print(session().hsmRoles(hsm).definition("/", name), DEFINITION_COLUMNS);
        }

        @Command(name = "delete", description = "Delete a custom role.")
        int delete(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                   @Option(names = "--name", required = true, paramLabel = "GUID") String name) {
            return print(session().hsmRoles(hsm).deleteDefinition("/", name), DEFINITION_COLUMNS);
        }
    }

    /**
     * The wire {@code properties} of a custom role from az's input shape ({@code roleName}, {@code description},
     * {@code actions}, {@code notActions}, {@code dataActions}, {@code notDataActions}) or the wire shape itself.
     */
    static ObjectNode definitionProperties(JsonNode input) {
        JsonNode source = input.has("properties") ? input.get("properties") : input;
        String roleName = source.path("roleName").asText("");
        if (roleName.isBlank()) {
            throw new UsageError("--role-definition needs a 'roleName'.");
        }
        ObjectNode properties = Json.object().put("roleName", roleName);
        if (source.hasNonNull("description")) {
            properties.put("description", source.path("description").asText());
        }
        properties.put("type", "CustomRole");
        if (source.has("permissions")) {
            properties.set("permissions", source.get("permissions"));
        } else {
            ObjectNode permission = properties.putArray("permissions").addObject();
            for (String field : List.of("actions", "notActions", "dataActions", "notDataActions")) {
                permission.set(field, source.has(field) ? source.get(field) : Json.MAPPER.createArrayNode());
            }
        }
        properties.set("assignableScopes", source.has("assignableScopes") ? source.get("assignableScopes")
                : Json.MAPPER.createArrayNode().add("/"));
        return properties;
    }

    @Command(name = "assignment", description = "Manage role assignments (scopes /, /keys, /keys/NAME).")
    static final class Assignment extends CliCommand {
        @Command(name = "create", description = "Assign a role to a principal at a scope.")
        int create(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                   @Option(names = "--role", required = true, paramLabel = "NAME|ID") String role,
                   @Option(names = "--assignee", paramLabel = "ID", description = "Object id or app id.")
                   String assignee,
                   @Option(names = "--assignee-object-id", paramLabel = "OID",
                           description = "Object id, not looked up in the directory.") String assigneeObjectId,
                   @Option(names = "--scope", required = true, paramLabel = "SCOPE",
                           description = "/, /keys or /keys/NAME.") String scope) {
            String principal = requiredPrincipal(assignee, assigneeObjectId);
            return print(session().hsmRoles(hsm).assign(scope, role, principal), ASSIGNMENT_COLUMNS);
        }

        @Command(name = "list", description = "List role assignments.")
        int list(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                 @Option(names = "--scope", defaultValue = "/", paramLabel = "SCOPE") String scope,
                 @Option(names = "--role", paramLabel = "NAME|ID") String role,
                 @Option(names = "--assignee", paramLabel = "ID") String assignee,
                 @Option(names = "--assignee-object-id", paramLabel = "OID") String assigneeObjectId) {
            String principal = principal(assignee, assigneeObjectId);
            return print(session().hsmRoles(hsm).find(scope, principal, role), ASSIGNMENT_COLUMNS);
        }

        @Command(name = "delete", description = "Delete role assignments by name, or all matching --assignee/--role.")
        int delete(@Option(names = "--hsm-name", required = true, paramLabel = "HSM") String hsm,
                   @Option(names = "--name", paramLabel = "GUID") String name,
                   @Option(names = "--scope", defaultValue = "/", paramLabel = "SCOPE") String scope,
                   @Option(names = "--role", paramLabel = "NAME|ID") String role,
                   @Option(names = "--assignee", paramLabel = "ID") String assignee,
                   @Option(names = "--assignee-object-id", paramLabel = "OID") String assigneeObjectId) {
            if (name != null) {
                if (role != null || assignee != null || assigneeObjectId != null) {
                    throw new UsageError("--name deletes one assignment; leave out --role and --assignee.");
                }
                return print(session().hsmRoles(hsm).deleteAssignment(scope, name), ASSIGNMENT_COLUMNS);
            }
            if (role == null && assignee == null && assigneeObjectId == null) {
                throw new UsageError("Say which assignments to delete: --name, or --assignee and/or --role.");
            }
            String principal = principal(assignee, assigneeObjectId);
            return print(session().hsmRoles(hsm).unassign(scope, principal, role), ASSIGNMENT_COLUMNS);
        }
    }
}
