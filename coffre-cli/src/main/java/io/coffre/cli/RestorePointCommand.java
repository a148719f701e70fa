package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "restore-point", description = "Manage restore points of virtual machines (and their collections).",
        subcommands = RestorePointCommand.CollectionCommand.class)
final class RestorePointCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"),
            field("ConsistencyMode", "properties.consistencyMode"),
            field("ProvisioningState", "properties.provisioningState"), field("Created", "properties.timeCreated"));

    @Command(name = "create", description = "Take a restore point of the collection's VM (waits until it is taken).")
    int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = "--collection-name", required = true, paramLabel = "COLLECTION") String collection,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--consistency-mode", paramLabel = "MODE", description = "ApplicationConsistent "
                       + "(default) or CrashConsistent.") String consistencyMode,
               @Option(names = "--exclude-disks", arity = "1..*", paramLabel = "DISK",
                       description = "Data disks to leave out: names in the same group, or resource ids.")
               List<String> excludeDisks) {
        Arm arm = session().arm();
        ObjectNode body = Json.object();
        ObjectNode properties = body.putObject("properties");
        if (consistencyMode != null) {
            properties.put("consistencyMode", consistencyMode);
        }
        if (excludeDisks != null) {
            ArrayNode excluded = properties.putArray("excludeDisks");
            for (String disk : excludeDisks) {
                excluded.addObject().put("id", disk.startsWith("/") ? disk
                        : arm.diskId(Arm.DiskKind.DISK, group, disk));
            }
        }
        return print(arm.putRestorePoint(group, collection, name, body), COLUMNS);
    }

    @Command(name = "show", description = "Show a restore point.")
    int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = "--collection-name", required = true, paramLabel = "COLLECTION") String collection,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
             @Option(names = "--instance-view", description = "Include the disk restore points' states.")
             boolean instanceView) {
        return print(session().arm().restorePoint(group, collection, name, instanceView), COLUMNS);
    }

    @Command(name = "list", description = "List the restore points of a collection.")
    int list(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = "--collection-name", required = true, paramLabel = "COLLECTION") String collection) {
        JsonNode expanded = session().arm().restorePointCollection(group, collection, true);
        return print(expanded.path("properties").path("restorePoints"), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a restore point (disks restored from it keep their content).")
    int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = "--collection-name", required = true, paramLabel = "COLLECTION") String collection,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().deleteRestorePoint(group, collection, name), COLUMNS);
    }

    @Command(name = "collection", description = "Manage restore point collections (one per source VM).")
    static final class CollectionCommand extends CliCommand {
        static final List<Output.Column> COLUMNS = List.of(field("Name", "name"), field("Location", "location"),
                field("Source", "properties.source.id"));

        @Command(name = "create", description = "Create a collection for the restore points of a VM.")
        int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                   @Option(names = "--source-id", required = true, paramLabel = "VM",
                           description = "The VM: its name in the same group, or its resource id.") String source,
                   @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                           description = "Defaults to the VM's location.") String location) {
            Arm arm = session().arm();
            String vmId = source.startsWith("/") ? source : arm.groupScope(group)
                    + "/providers/Microsoft.Compute/virtualMachines/" + Urls.encode(source);
            ObjectNode body = Json.object().put("location", location != null ? location
                    : arm.resource(vmId, Arm.COMPUTE_API).path("location").asText());
            body.putObject("properties").putObject("source").put("id", vmId);
            return print(arm.putRestorePointCollection(group, name, body), COLUMNS);
        }

        @Command(name = "show", description = "Show a collection.")
        int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                 @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                 @Option(names = "--restore-points", description = "Include its restore points.")
                 boolean restorePoints) {
            return print(session().arm().restorePointCollection(group, name, restorePoints), COLUMNS);
        }

        @Command(name = "list", description = "List collections of a resource group, or of the subscription.")
        int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
            return print(session().arm().restorePointCollections(group), COLUMNS);
        }

        @Command(name = "delete", description = "Delete a collection and all its restore points.")
        int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
            return print(session().arm().deleteRestorePointCollection(group, name), COLUMNS);
        }
    }
}
