package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "ad", description = "The directory: service principals.", subcommands = AdCommand.Sp.class)
final class AdCommand {
    static final List<Output.Column> COLUMNS = List.of(field("DisplayName", "displayName"), field("AppId", "appId"),
            field("ObjectId", "id"), field("Type", "servicePrincipalType"));

    @Command(name = "sp", description = "Manage service principals.", subcommands = Credential.class)
    static final class Sp extends CliCommand {
        @Command(name = "create", description = "Create a service principal; its secret is shown only this once.")
        int create(@Option(names = "--display-name", required = true, paramLabel = "NAME") String displayName) {
            String tenant = session().tenantId();
            JsonNode created = session().graph().createServicePrincipal(displayName);
            JsonNode secret = created.path("passwordCredentials").path(0);
            ObjectNode shown = Json.object();
            shown.put("appId", created.path("appId").asText());
            shown.put("objectId", created.path("id").asText());
            shown.put("displayName", created.path("displayName").asText());
            shown.put("secret", secret.path("secretText").asText());
            shown.put("secretKeyId", secret.path("keyId").asText());
            shown.put("tenant", tenant);
            session().warn("The secret is shown only now; store it safely.");
            return print(shown, null);
        }

        @Command(name = "show", description = "Show a service principal.")
        int show(@Option(names = "--id", required = true, paramLabel = "ID", description = "Object id or app id.")
                 String id) {
            return print(session().graph().servicePrincipal(id), COLUMNS);
        }

        @Command(name = "list", description = "List service principals.")
        int list(@Option(names = "--display-name", paramLabel = "NAME") String displayName) {
            String filter = displayName == null ? null : "displayName eq '" + displayName.replace("'", "''") + "'";
            return print(session().graph().servicePrincipals(filter), COLUMNS);
        }
    }

    @Command(name = "credential", description = "Manage a service principal's secret.")
    static final class Credential extends CliCommand {
        @Command(name = "reset", description = "Replace a service principal's secrets with a new one (shown once).")
        int reset(@Option(names = "--id", required = true, paramLabel = "ID", description = "Object id or app id.")
                  String id) {
            String tenant = session().tenantId();
            JsonNode principal = session().graph().servicePrincipal(id);
            JsonNode secret = session().graph().addPassword(principal.path("id").asText());
            ObjectNode shown = Json.object();
            shown.put("appId", principal.path("appId").asText());
            shown.put("secret", secret.path("secretText").asText());
            shown.put("secretKeyId", secret.path("keyId").asText());
            shown.put("tenant", tenant);
            session().warn("The secret is shown only now; store it safely.");
            return print(shown, null);
        }
    }
}
