package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "role", description = "Manage Azure RBAC (management plane) roles and assignments.",
        subcommands = {RoleCommand.Assignment.class, RoleCommand.Definition.class})
final class RoleCommand {
    static final List<Output.Column> DEFINITION_COLUMNS = List.of(field("RoleName", "properties.roleName"),
            field("Name", "name"), field("Type", "properties.type"), field("Description", "properties.description"));

    /** {@code --scope S}, or {@code -g RG} for a resource group, or the subscription. */
    static String scope(Session session, String scope, String group) {
        if (scope != null && group != null) {
            throw new UsageError("--scope and -g are mutually exclusive.");
        }
        if (scope != null) {
            return scope;
        }
        String subscription = "/subscriptions/" + session.subscriptionId();
        return group == null ? subscription : subscription + "/resourceGroups/" + group;
    }

    @Command(name = "assignment", description = "Manage role assignments.")
    static final class Assignment extends CliCommand {
        @Command(name = "create", description = "Assign a role to a principal at a scope.")
        int create(@Option(names = "--role", required = true, paramLabel = "NAME|ID") String role,
                   @Option(names = "--assignee", paramLabel = "ID", description = "Object id or app id.")
                   String assignee,
                   @Option(names = "--assignee-object-id", paramLabel = "OID") String assigneeObjectId,
                   @Option(names = "--scope", paramLabel = "SCOPE",
                           description = "An ARM id (default: the subscription).") String scope,
                   @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
            String principal = requiredPrincipal(assignee, assigneeObjectId);
            return print(session().armRoles().assign(scope(session(), scope, group), role, principal),
                    HsmRoleCommand.ASSIGNMENT_COLUMNS);
        }

        @Command(name = "list", description = "List role assignments at a scope.")
        int list(@Option(names = "--role", paramLabel = "NAME|ID") String role,
                 @Option(names = "--assignee", paramLabel = "ID") String assignee,
                 @Option(names = "--assignee-object-id", paramLabel = "OID") String assigneeObjectId,
                 @Option(names = "--scope", paramLabel = "SCOPE") String scope,
                 @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
            String principal = principal(assignee, assigneeObjectId);
            return print(session().armRoles().find(scope(session(), scope, group), principal, role),
                    HsmRoleCommand.ASSIGNMENT_COLUMNS);
        }

        @Command(name = "delete", description = "Delete the role assignments matching --assignee and/or --role.")
        int delete(@Option(names = "--role", paramLabel = "NAME|ID") String role,
                   @Option(names = "--assignee", paramLabel = "ID") String assignee,
                   @Option(names = "--assignee-object-id", paramLabel = "OID") String assigneeObjectId,
                   @Option(names = "--scope", paramLabel = "SCOPE") String scope,
                   @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
            if (role == null && assignee == null && assigneeObjectId == null) {
                throw new UsageError("Say which assignments to delete: --assignee and/or --role.");
            }
            String principal = principal(assignee, assigneeObjectId);
            return print(session().armRoles().unassign(scope(session(), scope, group), principal, role),
                    HsmRoleCommand.ASSIGNMENT_COLUMNS);
        }
    }

    @Command(name = "definition", description = "List role definitions.")
    static final class Definition extends CliCommand {
        @Command(name = "list", description = "List the role definitions visible at a scope.")
        int list(@Option(names = {"-n", "--name"}, paramLabel = "ROLE", description = "Only this role name.")
                 String roleName,
                 @Option(names = "--scope", paramLabel = "SCOPE") String scope,
                 @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
            return print(session().armRoles().definitions(scope(session(), scope, group), roleName),
                    DEFINITION_COLUMNS);
        }
    }
}
