package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "vm", description = "Manage virtual machines (confidential VMs included) and reach their disks.",
        subcommands = VmCommand.DiskData.class)
final class VmCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"), field("Location", "location"),
            field("Size", "properties.hardwareProfile.vmSize"),
            field("Security", "properties.securityProfile.securityType"),
            field("Provisioning", "properties.provisioningState"),
            new Output.Column("Power", VmCommand::powerState));

    static final List<Output.Column> SIZE_COLUMNS = List.of(field("Name", "name"), field("Cores", "numberOfCores"),
            field("MemoryInMB", "memoryInMB"), field("MaxDataDisks", "maxDataDiskCount"));

    /** The instance view's {@code PowerState/...} status, when the VM was read with it. */
    static String powerState(JsonNode vm) {
        for (JsonNode status : vm.path("properties").path("instanceView").path("statuses")) {
            String code = status.path("code").asText("");
            if (code.startsWith("PowerState/")) {
                return code.substring("PowerState/".length());
            }
        }
        return "";
    }

    @Command(name = "create", description = "Create a VM and wait until it runs. Its OS disk starts empty (Coffre has "
            + "no images); a CMK confidential VM gets its key released by the Confidential VM Orchestrator.")
    int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                       description = "Defaults to the resource group's location.") String location,
               @Option(names = "--size", required = true, paramLabel = "SIZE",
                       description = "VM size, e.g. Standard_DC2as_v6.") String size,
               @Option(names = "--security-type", defaultValue = "ConfidentialVM", paramLabel = "TYPE",
                       description = "Standard, TrustedLaunch or ConfidentialVM (default).") String securityType,
               @Option(names = "--os-disk-security-encryption-type", defaultValue = "DiskWithVMGuestState",
                       paramLabel = "TYPE", description = "DiskWithVMGuestState (default), VMGuestStateOnly or "
                       + "NonPersistedTPM; confidential VMs only.") String encryptionType,
               @Option(names = "--disk-encryption-set", paramLabel = "NAME_OR_ID",
                       description = "Confidential DES (customer key) of the OS disk; platform key without.")
               String diskEncryptionSet,
               @Option(names = "--os-disk-size-gb", defaultValue = "30", paramLabel = "GB") int osDiskSizeGb,
               @Option(names = "--data-disk-sizes", arity = "1..*", paramLabel = "GB",
                       description = "Empty data disks, at LUN 0, 1 ... in order.") List<Integer> dataDiskSizes,
               @Option(names = "--disk-delete-option", defaultValue = "Delete", paramLabel = "OPTION",
                       description = "What deleting the VM does to its disks: Delete (default) or Detach.")
               String deleteOption) {
        Arm arm = session().arm();
        boolean confidential = securityType.equalsIgnoreCase("ConfidentialVM");
        if (!confidential && diskEncryptionSet != null) {
            throw new UsageError("--disk-encryption-set is for confidential VMs (--security-type ConfidentialVM).");
        }
        String desId = diskEncryptionSet == null || diskEncryptionSet.startsWith("/") ? diskEncryptionSet
                : arm.groupScope(group) + "/providers/Microsoft.Compute/diskEncryptionSets/" + diskEncryptionSet;
        ObjectNode body = createBody(location != null ? location : arm.group(group).path("location").asText(), name,
                size, securityType, encryptionType, desId, osDiskSizeGb,
                dataDiskSizes == null ? List.of() : dataDiskSizes, deleteOption);
        arm.putVm(group, name, body);
        return print(arm.vm(group, name), COLUMNS);
    }

    /**
     * The PUT body of a VM whose OS disk starts empty and whose data disks are empty disks at LUN 0, 1 ...
     *
     * @param desId the confidential OS disk's DES (customer key), null for the platform key
     */
    static ObjectNode createBody(String location, String name, String size, String securityType,
                                 String encryptionType, String desId, int osDiskSizeGb, List<Integer> dataDiskSizes,
                                 String deleteOption) {
        ObjectNode body = Json.object().put("location", location);
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", size);
        ObjectNode security = p.putObject("securityProfile").put("securityType", securityType);
        boolean confidential = securityType.equalsIgnoreCase("ConfidentialVM");
        if (confidential || securityType.equalsIgnoreCase("TrustedLaunch")) {
            security.putObject("uefiSettings").put("secureBootEnabled", true).put("vTpmEnabled", true);
        }
        ObjectNode storage = p.putObject("storageProfile");
        ObjectNode managed = storage.putObject("osDisk").put("createOption", "FromImage")
                .put("diskSizeGB", osDiskSizeGb).put("deleteOption", deleteOption).putObject("managedDisk")
                .put("storageAccountType", "Premium_LRS");
        if (confidential) {
            ObjectNode osSecurity = managed.putObject("securityProfile")
                    .put("securityEncryptionType", encryptionType);
            if (desId != null) {
                osSecurity.putObject("diskEncryptionSet").put("id", desId);
            }
        }
        ArrayNode data = storage.putArray("dataDisks");
        for (int lun = 0; lun < dataDiskSizes.size(); lun++) {
            data.addObject().put("lun", lun).put("createOption", "Empty").put("diskSizeGB", dataDiskSizes.get(lun))
                    .put("deleteOption", deleteOption);
        }
        p.putObject("osProfile").put("computerName", name).put("adminUsername", "azureuser");
        return body;
    }

    @Command(name = "show", description = "Show a VM with its instance view (power state).")
    int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().vm(group, name), COLUMNS);
    }

    @Command(name = "list", description = "List VMs of a resource group, or of the subscription.")
    int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
        return print(session().arm().vms(group), COLUMNS);
    }

    @Command(name = "list-sizes", description = "List the VM sizes a region offers, as az vm list-sizes does.")
    int listSizes(@Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION") String location) {
        return print(session().arm().vmSizes(location), SIZE_COLUMNS);
    }

    @Command(name = "resize", description = "Resize a VM, as az vm resize does: a running one restarts (a confidential "
            + "VM's key is released again); list-vm-resize-options tells the sizes it can take.")
    int resize(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--size", required = true, paramLabel = "SIZE") String size) {
        Arm arm = session().arm();
        ObjectNode body = (ObjectNode) arm.vm(group, name);
        ((ObjectNode) body.path("properties")).with("hardwareProfile").put("vmSize", size);
        return print(update(arm, group, name, body), COLUMNS);
    }

    @Command(name = "list-vm-resize-options", description = "List the sizes a VM can be resized to: its region's, "
            + "of its confidential hardware, with room for its data disks.")
    int listResizeOptions(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                          @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().vmResizeOptions(group, name), SIZE_COLUMNS);
    }

    /** PUTs the VM as GET showed it (less its instance view), changed, and waits for the update. */
    static JsonNode update(Arm arm, String group, String vm, ObjectNode body) {
        ((ObjectNode) body.path("properties")).remove("instanceView");
        arm.putVm(group, vm, body);
        return arm.vm(group, vm);
    }

    @Command(name = "start", description = "Start a VM (a CMK confidential VM gets its key released again).")
    int start(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
              @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().vmAction(group, name, "start"), COLUMNS);
    }

    @Command(name = "stop", description = "Power a VM off; every write its disks acknowledged is durable after.")
    int stop(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().vmAction(group, name, "powerOff"), COLUMNS);
    }

    @Command(name = "deallocate", description = "Stop a VM and release its compute.")
    int deallocate(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().vmAction(group, name, "deallocate"), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a VM; its disks are deleted or detached by their delete option.")
    int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        session().arm().deleteVm(group, name);
        return print(Json.object().put("deleted", session().arm().vmId(group, name)),
                List.of(field("Deleted", "deleted")));
    }

    /**
     * A running VM's disks over the server's loopback NBD server, as the hypervisor reaches them: export
     * {@code {group}/{vm}/os} or {@code {group}/{vm}/lun{N}}.
     */
    @Command(name = "disk", description = "Attach or detach a VM's data disks; read or write a running VM's disk over "
            + "NBD.")
    static final class DiskData extends CliCommand {
        /** The disk store's block size: requests of this size arrive as whole blocks. */
        private static final int CHUNK = 4 << 20;
        private static final List<Output.Column> RESULT = List.of(field("Export", "export"),
                field("Offset", "offset"), field("Bytes", "bytes"));

        @Command(name = "attach", description = "Attach a data disk to a VM (running or not), as az vm disk attach: "
                + "an existing Unattached disk, or a new empty one with --new.")
        int attach(@Option(names = "--vm", required = true, paramLabel = "VM") String vm,
                   @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "DISK") String disk,
                   @Option(names = "--lun", paramLabel = "N", description = "Default: the lowest free LUN.")
                   Integer lun,
                   @Option(names = "--new", description = "Create the disk (needs --size-gb).") boolean create,
                   @Option(names = "--size-gb", paramLabel = "GB") Integer sizeGb) {
            if (create != (sizeGb != null)) {
                throw new UsageError("--new and --size-gb go together: --new --size-gb N makes a new empty disk.");
            }
            return print(attachDisk(session().arm(), group, vm, disk, lun, sizeGb), COLUMNS);
        }

        /**
         * Attaches {@code disk} at {@code lun} (null: the lowest free LUN), a new empty disk of {@code newSizeGb}
         * when that is not null; returns the VM once updated.
         */
        static JsonNode attachDisk(Arm arm, String group, String vm, String disk, Integer lun, Integer newSizeGb) {
            ObjectNode body = (ObjectNode) arm.vm(group, vm);
            ArrayNode data = ((ObjectNode) body.path("properties").path("storageProfile")).withArray("dataDisks");
            Set<Integer> used = new HashSet<>(data.findValues("lun").stream().map(JsonNode::asInt).toList());
            int chosen = lun != null ? lun : IntStream.range(0, 64).filter(l -> !used.contains(l)).findFirst()
                    .orElseThrow(() -> new UsageError("Every LUN of " + vm + " is taken."));
            ObjectNode entry = data.addObject().put("lun", chosen).put("name", disk);
            if (newSizeGb != null) {
                entry.put("createOption", "Empty").put("diskSizeGB", newSizeGb);
            } else {
                entry.put("createOption", "Attach").putObject("managedDisk").put("id", arm.groupScope(group)
                        + "/providers/Microsoft.Compute/disks/" + disk);
            }
            return update(arm, group, vm, body);
        }

        @Command(name = "detach", description = "Detach a data disk from a VM (running or not), as az vm disk detach; "
                + "the disk keeps its data.")
        int detach(@Option(names = "--vm", required = true, paramLabel = "VM") String vm,
                   @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "DISK") String disk) {
            Arm arm = session().arm();
            ObjectNode body = (ObjectNode) arm.vm(group, vm);
            ArrayNode data = ((ObjectNode) body.path("properties").path("storageProfile")).withArray("dataDisks");
            for (int i = 0; i < data.size(); i++) {
                if (data.get(i).path("name").asText().equalsIgnoreCase(disk)) {
                    data.remove(i);
                    return print(update(arm, group, vm, body), COLUMNS);
                }
            }
            throw new CliError("No data disk named '" + disk + "' is attached to " + vm + ".");
        }

        @Command(name = "write", description = "Write a file into the disk at an offset (flushed when done).")
        int write(@Option(names = "--vm", required = true, paramLabel = "VM") String vm,
                  @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                  @Option(names = "--lun", required = true, paramLabel = "N|os") String lun,
                  @Option(names = "--offset", defaultValue = "0", paramLabel = "BYTES") long offset,
                  @Option(names = "--file", required = true, paramLabel = "FILE") Path file,
                  @Option(names = "--length", paramLabel = "BYTES",
                          description = "Bytes to write from the file's start (default: the whole file).") Long length)
                throws IOException {
            String export = export(group, vm, lun);
            long fileSize = Files.size(file);
            long total = length == null ? fileSize : length;
            if (offset < 0 || total < 0 || total > fileSize) {
                throw new UsageError("--offset must be >= 0 and --length within the file's " + fileSize + " bytes.");
            }
            try (NbdClient client = connect(export); InputStream in = Files.newInputStream(file)) {
                checkRange(client, export, offset, total);
                byte[] buffer = new byte[CHUNK];
                for (long done = 0; done < total; ) {
                    int n = in.readNBytes(buffer, 0, (int) Math.min(CHUNK, total - done));
                    client.write(offset + done, buffer, 0, n, false);
                    done += n;
                }
                client.flush();
            }
            return print(result(export, offset, total), RESULT);
        }

        @Command(name = "read", description = "Read the disk from an offset into a file.")
        int read(@Option(names = "--vm", required = true, paramLabel = "VM") String vm,
                 @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                 @Option(names = "--lun", required = true, paramLabel = "N|os") String lun,
                 @Option(names = "--offset", defaultValue = "0", paramLabel = "BYTES") long offset,
                 @Option(names = "--file", required = true, paramLabel = "OUT") Path file,
                 @Option(names = "--length", paramLabel = "BYTES",
                         description = "Bytes to read (default: to the end of the disk).") Long length)
                throws IOException {
            String export = export(group, vm, lun);
            long total;
            try (NbdClient client = connect(export); OutputStream out = Files.newOutputStream(file)) {
                total = length == null ? client.size() - offset : length;
                checkRange(client, export, offset, total);
                byte[] buffer = new byte[CHUNK];
                for (long done = 0; done < total; ) {
                    int n = (int) Math.min(CHUNK, total - done);
                    client.read(offset + done, buffer, 0, n);
                    out.write(buffer, 0, n);
                    done += n;
                }
            }
            return print(result(export, offset, total), RESULT);
        }

        static String export(String group, String vm, String lun) {
            if (lun.equalsIgnoreCase("os")) {
                return group + "/" + vm + "/os";
            }
            try {
                return group + "/" + vm + "/lun" + Integer.parseUnsignedInt(lun);
            } catch (NumberFormatException e) {
                throw new UsageError("--lun is a data disk's LUN (0, 1 ...) or 'os', not '" + lun + "'.");
            }
        }

        private NbdClient connect(String export) {
            return connect(session(), export);
        }

        /** Opens an export on the server's loopback NBD server, whose port server.json names. */
        static NbdClient connect(Session session, String export) {
            Integer port = session.server().nbdPort();
            if (port == null) {
                throw new CliError("The server's server.json has no nbdPort: restart the server with this "
                        + "version of Coffre.");
            }
            try {
                return NbdClient.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), export);
            } catch (IOException e) {
                throw new CliError("Cannot open disk '" + export + "' over NBD on port " + port + ": "
                        + e.getMessage(), e);
            }
        }

        private static void checkRange(NbdClient client, String export, long offset, long length) {
            if (offset < 0 || length < 0 || offset + length > client.size()) {
                throw new UsageError("The range " + offset + " + " + length + " bytes is outside disk '" + export
                        + "' of " + client.size() + " bytes.");
            }
        }

        private static JsonNode result(String export, long offset, long bytes) {
            return Json.object().put("export", export).put("offset", offset).put("bytes", bytes);
        }
    }
}
