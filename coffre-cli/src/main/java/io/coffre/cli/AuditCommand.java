package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "audit", description = "Read and verify the tamper-evident audit log of key-service calls.")
final class AuditCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Sequence", "sequence"), field("Time", "timeMillis"),
            field("Principal", "principalId"), field("Operation", "operation"), field("Resource", "resource"),
            field("Version", "keyVersion"), field("Allowed", "allowed"));

    @Command(name = "list", description = "List audit entries.")
    int list(@Option(names = "--prefix", paramLabel = "PREFIX",
                     description = "Only resources starting with this (e.g. a vault URI).") String prefix,
             @Option(names = "--top", paramLabel = "N", description = "At most N entries.") Integer top) {
        if (top != null && top < 1) {
            throw new UsageError("--top must be at least 1.");
        }
        return print(session().admin().audit(prefix, top).path("value"), COLUMNS);
    }

    @Command(name = "verify", description = "Check the audit log's hash chain; exit code 1 if it was tampered with.")
    int verify() {
        JsonNode result = session().admin().verifyAudit();
        print(result, null);
        if (!result.path("intact").asBoolean(false)) {
            throw new CliError("The audit log is NOT intact: " + result.path("problem").asText("no reason given"));
        }
        return 0;
    }
}
