package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every command class shares: the invocation's session and printing. */
abstract class CliCommand {
    @Spec
    CommandSpec spec;

    Coffre root() {
        return (Coffre) spec.root().userObject();
    }

    Session session() {
        return root().session();
    }

    /** Prints a result and returns exit code 0. */
    int print(JsonNode value, List<Output.Column> columns) {
        session().output().print(value, columns);
        return 0;
    }

    /**
     * The object id for {@code --assignee} (an object or app id, resolved through the directory) or
     * {@code --assignee-object-id} (taken as is); null when neither is given.
     */
    String principal(String assignee, String assigneeObjectId) {
        if (assignee != null && assigneeObjectId != null) {
            throw new UsageError("--assignee and --assignee-object-id are mutually exclusive.");
        }
        if (assignee == null) {
            return assigneeObjectId;
        }
        return session().graph().resolveObjectId(assignee, session()::warn);
    }

    String requiredPrincipal(String assignee, String assigneeObjectId) {
        String principal = principal(assignee, assigneeObjectId);
        if (principal == null) {
            throw new UsageError("Name the principal with --assignee or --assignee-object-id.");
        }
        return principal;
    }
}
