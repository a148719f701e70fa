package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.cli.Arm.DiskKind;
import io.coffre.compute.Disks;
import io.coffre.json.Json;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "disk", description = "Manage managed disks: create, upload and download images.")
final class DiskCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"), field("Location", "location"),
            field("SizeGb", "properties.diskSizeGB"), field("State", "properties.diskState"),
            field("Encryption", "properties.encryption.type"));
    /** How long the access granted for one upload or download lasts. */
    static final long TRANSFER_ACCESS_SECONDS = 24 * 3600;

    @Command(name = "create", description = "Create a disk: empty (--size-gb), a copy of a disk or snapshot or "
            + "restored from a disk restore point (--source), or ready for an upload (--upload-size-bytes).")
    int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                       description = "Defaults to the resource group's location.") String location,
               @Option(names = "--size-gb", paramLabel = "GB") Long sizeGb,
               @Option(names = "--source", paramLabel = "NAME_OR_ID",
                       description = "A snapshot or disk (name in the same group, or resource id), or a disk "
                               + "restore point (resource id).") String source,
               @Option(names = "--upload-size-bytes", paramLabel = "BYTES",
                       description = "Size of the image to upload, a multiple of 512.") Long uploadSizeBytes,
               @Option(names = "--upload-type", paramLabel = "TYPE", description = "Upload (the default) or "
                       + "UploadWithSecurityData: a confidential OS disk uploaded with its VM guest state (needs "
                       + "--security-type).") String uploadType,
               @Option(names = "--disk-encryption-set", paramLabel = "NAME_OR_ID",
                       description = "Encrypt with this Disk Encryption Set's key instead of the platform key.")
               String diskEncryptionSet,
               @Option(names = "--security-type", paramLabel = "TYPE", description = "securityProfile.securityType, "
                       + "e.g. ConfidentialVM_DiskEncryptedWithPlatformKey or "
                       + "ConfidentialVM_DiskEncryptedWithCustomerKey.") String securityType,
               @Option(names = "--secure-vm-disk-encryption-set", paramLabel = "NAME_OR_ID", description = "The "
                       + "Disk Encryption Set of a ConfidentialVM_DiskEncryptedWithCustomerKey disk.")
               String secureVmDiskEncryptionSet,
               @Option(names = "--sku", defaultValue = "Premium_LRS", paramLabel = "SKU") String sku) {
        int given = (sizeGb != null ? 1 : 0) + (source != null ? 1 : 0) + (uploadSizeBytes != null ? 1 : 0);
        if (given != 1) {
            throw new UsageError("Give exactly one of --size-gb, --source and --upload-size-bytes.");
        }
        String createOption = uploadOption(uploadType, uploadSizeBytes);
        Arm arm = session().arm();
        ObjectNode body = Json.object().put("location", location != null ? location
                : arm.group(group).path("location").asText());
        body.putObject("sku").put("name", sku);
        ObjectNode properties = body.putObject("properties");
        ObjectNode creation = properties.putObject("creationData");
        if (sizeGb != null) {
            creation.put("createOption", "Empty");
            properties.put("diskSizeGB", sizeGb);
        } else if (uploadSizeBytes != null) {
            creation.put("createOption", createOption).put("uploadSizeBytes", uploadSizeBytes);
        } else {
            String sourceId = sourceId(arm, group, source);
            // a disk restore point is restored from, a disk or snapshot copied
            creation.put("createOption", sourceId.toLowerCase(Locale.ROOT).contains("/diskrestorepoints/")
                    ? "Restore" : "Copy").put("sourceResourceId", sourceId);
        }
        if (diskEncryptionSet != null) {
            properties.putObject("encryption").put("type", "EncryptionAtRestWithCustomerKey")
                    .put("diskEncryptionSetId", desId(arm, group, diskEncryptionSet));
        }
        if (securityType != null) {
            ObjectNode security = properties.putObject("securityProfile").put("securityType", securityType);
            if (secureVmDiskEncryptionSet != null) {
                security.put("secureVMDiskEncryptionSetId", desId(arm, group, secureVmDiskEncryptionSet));
            }
        } else if (secureVmDiskEncryptionSet != null) {
            throw new UsageError("--secure-vm-disk-encryption-set goes with --security-type "
                    + "ConfidentialVM_DiskEncryptedWithCustomerKey.");
        }
        return print(arm.putDisk(DiskKind.DISK, group, name, body), COLUMNS);
    }

    /** az's upload types and the createOption each stands for. */
    private static String uploadOption(String uploadType, Long uploadSizeBytes) {
        if (uploadType == null || uploadType.equalsIgnoreCase("Upload")) {
            return "Upload";
        }
        if (!uploadType.equalsIgnoreCase("UploadWithSecurityData")) {
            throw new UsageError("--upload-type is Upload or UploadWithSecurityData, not '" + uploadType + "'.");
        }
        if (uploadSizeBytes == null) {
            throw new UsageError("--upload-type goes with --upload-size-bytes.");
        }
        return "UploadPreparedSecure";
    }

    private static String desId(Arm arm, String group, String nameOrId) {
        return nameOrId.startsWith("/") ? nameOrId
                : arm.groupScope(group) + "/providers/Microsoft.Compute/diskEncryptionSets/" + nameOrId;
    }

    /** A resource id as given, else the snapshot of that name in the group, else the disk. */
    static String sourceId(Arm arm, String group, String source) {
        if (source.startsWith("/")) {
            return source;
        }
        for (DiskKind kind : List.of(DiskKind.SNAPSHOT, DiskKind.DISK)) {
            try {
                return arm.disk(kind, group, source).path("id").asText();
            } catch (ServerError e) {
                if (e.status() != 404) {
                    throw e;
                }
            }
        }
        throw new CliError("No snapshot or disk named '" + source + "' in resource group '" + group + "'.");
    }

    @Command(name = "show", description = "Show a disk.")
    int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().disk(DiskKind.DISK, group, name), COLUMNS);
    }

    @Command(name = "list", description = "List disks of a resource group, or of the subscription.")
    int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
        return print(session().arm().disks(DiskKind.DISK, group), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a disk (its snapshots and copies keep their content).")
    int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().deleteDisk(DiskKind.DISK, group, name), COLUMNS);
    }

    @Command(name = "upload", description = "Upload an image into a disk created with --upload-size-bytes "
            + "(grants write access, writes 4 MiB pages, revokes access).")
    int upload(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--file", required = true, paramLabel = "IMAGE") Path file,
               @Option(names = "--guest-state-file", paramLabel = "VMGS", description = "Also upload the VM guest "
                       + "state of a disk created with --upload-type UploadWithSecurityData (exactly "
                       + Disks.GUEST_STATE_BYTES + " bytes, as disk download --guest-state-file writes it).")
               Path guestStateFile) {
        if (guestStateFile != null && guestStateFile.toFile().length() != Disks.GUEST_STATE_BYTES) {
            throw new UsageError("The guest state file " + guestStateFile + " has " + guestStateFile.toFile().length()
                    + " bytes; a VM guest state has exactly " + Disks.GUEST_STATE_BYTES + ".");
        }
        Arm arm = session().arm();
        Arm.AccessUri access = arm.grantAccess(DiskKind.DISK, group, name, "Write", TRANSFER_ACCESS_SECONDS,
                guestStateFile != null);
        try {
            skipped("upload", transfer("upload").upload(file, access.accessSas()),
                    "all-zero chunks where the disk held no data");
            if (guestStateFile != null) {
                transfer("guest state").upload(guestStateFile, access.securityDataAccessSas());
            }
        } finally {
            arm.revokeAccess(DiskKind.DISK, group, name);
        }
        return print(arm.disk(DiskKind.DISK, group, name), COLUMNS);
    }

    @Command(name = "download", description = "Download a disk's content into a file.")
    int download(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
                 @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                 @Option(names = "--file", required = true, paramLabel = "OUT") Path file,
                 @Option(names = "--guest-state-file", paramLabel = "OUT", description = "Also download the VM "
                         + "guest state of a confidential VM's OS disk (getSecureVMGuestStateSAS).")
                 Path guestStateFile) {
        Arm arm = session().arm();
        Arm.AccessUri access = arm.grantAccess(DiskKind.DISK, group, name, "Read", TRANSFER_ACCESS_SECONDS,
                guestStateFile != null);
        try {
            skipped("download", transfer("download").download(access.accessSas(), file),
                    "ranges the disk never wrote, left as holes in the file");
            if (guestStateFile != null) {
                transfer("guest state").download(access.securityDataAccessSas(), guestStateFile);
            }
        } finally {
            arm.revokeAccess(DiskKind.DISK, group, name);
        }
        ObjectNode result = Json.object().put("file", file.toString()).put("bytes", file.toFile().length());
        if (guestStateFile == null) {
            return print(result, List.of(field("File", "file"), field("Bytes", "bytes")));
        }
        result.put("guestStateFile", guestStateFile.toString()).put("guestStateBytes",
                guestStateFile.toFile().length());
        return print(result, List.of(field("File", "file"), field("Bytes", "bytes"),
                field("Guest state file", "guestStateFile"), field("Guest state bytes", "guestStateBytes")));
    }

    /** Says on standard error what a transfer did not need to move. */
    private void skipped(String label, long bytes, String what) {
        if (bytes > 0) {
            session().err().printf(Locale.ROOT, "%s: %,d bytes skipped (%s)%n", label, bytes, what);
            session().err().flush();
        }
    }

    private DiskTransfer transfer(String label) {
        return new DiskTransfer(session().http(), new Progress(session().err(), label));
    }
}
