package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "group", description = "Manage resource groups.")
final class GroupCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"), field("Location", "location"),
            field("Status", "properties.provisioningState"));

    @Command(name = "create", description = "Create (or update) a resource group.")
    int create(@Option(names = {"-n", "--name"}, required = true, paramLabel = "RG") String name,
               @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION") String location) {
        return print(session().arm().createGroup(name, location), COLUMNS);
    }

    @Command(name = "show", description = "Show a resource group.")
    int show(@Option(names = {"-n", "--name"}, required = true, paramLabel = "RG") String name) {
        return print(session().arm().group(name), COLUMNS);
    }

    @Command(name = "list", description = "List the subscription's resource groups.")
    int list() {
        return print(session().arm().groups(), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a resource group and everything in it (waits until done).")
    int delete(@Option(names = {"-n", "--name"}, required = true, paramLabel = "RG") String name) {
        return print(session().arm().deleteGroup(name), COLUMNS);
    }
}
