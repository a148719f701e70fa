package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.cli.Arm.DiskKind;
import io.coffre.json.Json;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "snapshot", description = "Manage disk snapshots.")
final class SnapshotCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"), field("Location", "location"),
            field("SizeGb", "properties.diskSizeGB"), field("Incremental", "properties.incremental"),
            field("Source", "properties.creationData.sourceResourceId"));

    @Command(name = "create", description = "Snapshot a disk (a frozen copy of its content).")
    int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--source", required = true, paramLabel = "DISK",
                       description = "The disk: its name in the same group, or its resource id.") String source,
               @Option(names = {"-l", "--location"}, paramLabel = "LOCATION") String location,
               @Option(names = "--incremental", description = "Mark the snapshot incremental (Coffre snapshots "
                       + "share unchanged blocks either way).") boolean incremental) {
        Arm arm = session().arm();
        String sourceId = source.startsWith("/") ? source : arm.disk(DiskKind.DISK, group, source).path("id").asText();
        ObjectNode body = Json.object().put("location", location != null ? location
                : arm.group(group).path("location").asText());
        ObjectNode properties = body.putObject("properties");
        properties.putObject("creationData").put("createOption", "Copy").put("sourceResourceId", sourceId);
        properties.put("incremental", incremental);
        return print(arm.putDisk(DiskKind.SNAPSHOT, group, name, body), COLUMNS);
    }

    @Command(name = "show", description = "Show a snapshot.")
    int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().disk(DiskKind.SNAPSHOT, group, name), COLUMNS);
    }

    @Command(name = "list", description = "List snapshots of a resource group, or of the subscription.")
    int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
        return print(session().arm().disks(DiskKind.SNAPSHOT, group), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a snapshot (disks restored from it keep their content).")
    int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().deleteDisk(DiskKind.SNAPSHOT, group, name), COLUMNS);
    }
}
