package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "feature", description = "Manage preview features and subscription flags (Microsoft.Features).")
final class FeatureCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"),
            field("State", "properties.state"));

    @Command(name = "register", description = "Register a feature; poll 'feature show' until it is Registered.")
    int register(@Option(names = "--namespace", required = true, paramLabel = "NS") String namespace,
                 @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().registerFeature(namespace, name), COLUMNS);
    }

    @Command(name = "unregister", description = "Unregister a feature (or withdraw a pending request).")
    int unregister(@Option(names = "--namespace", required = true, paramLabel = "NS") String namespace,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().unregisterFeature(namespace, name), COLUMNS);
    }

    @Command(name = "show", description = "Show a feature's state in the subscription.")
    int show(@Option(names = "--namespace", required = true, paramLabel = "NS") String namespace,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().feature(namespace, name), COLUMNS);
    }

    @Command(name = "list", description = "List the known features with their state (of one namespace, or all).")
    int list(@Option(names = "--namespace", paramLabel = "NS") String namespace) {
        return print(session().arm().features(namespace), COLUMNS);
    }
}
