package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.util.List;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "disk-encryption-set", description = "Manage Disk Encryption Sets: a customer key (Key Vault or "
        + "Managed HSM) that encrypts disks and snapshots, held through the set's own managed identity.")
final class DiskEncryptionSetCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"),
            field("EncryptionType", "properties.encryptionType"), field("KeyUrl", "properties.activeKey.keyUrl"),
            field("PrincipalId", "identity.principalId"),
            field("LastKeyRotation", "properties.lastKeyRotationTimestamp"));
    static final List<String> ENCRYPTION_TYPES = List.of("EncryptionAtRestWithCustomerKey",
            "EncryptionAtRestWithPlatformAndCustomerKeys", "ConfidentialVmEncryptedWithCustomerKey");
    /** A DES names one key version even with auto rotation: {@code https://{host}/keys/{name}/{version}}. */
    private static final Pattern VERSIONED_KEY_ID = Pattern.compile("https://[^/]+/keys/[^/]+/[^/]+");

    @Command(name = "create", description = "Create a Disk Encryption Set with a system-assigned identity; then "
            + "grant that identity (identity.principalId) get, wrapKey and unwrapKey on the key.")
    int create(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = {"-l", "--location"}, paramLabel = "LOCATION",
                       description = "Defaults to the resource group's location.") String location,
               @Option(names = "--key-url", required = true, paramLabel = "KID",
                       description = "The versioned key id, e.g. https://kv1.vault.../keys/k1/<version>.")
               String keyUrl,
               @Option(names = "--source-vault", paramLabel = "VAULT_ID",
                       description = "Resource id of the key's vault (leave out for a Managed HSM key).")
               String sourceVault,
               @Option(names = "--encryption-type", defaultValue = "EncryptionAtRestWithCustomerKey",
                       paramLabel = "TYPE", description = "EncryptionAtRestWithCustomerKey (default), "
                       + "EncryptionAtRestWithPlatformAndCustomerKeys or ConfidentialVmEncryptedWithCustomerKey.")
               String encryptionType,
               @Option(names = "--enable-auto-key-rotation", arity = "0..1", fallbackValue = "true",
                       paramLabel = "BOOL", description = "Follow new versions of the key.") Boolean autoRotation) {
        checkKeyUrl(keyUrl);
        if (!ENCRYPTION_TYPES.contains(encryptionType)) {
            throw new UsageError("--encryption-type is one of " + String.join(", ", ENCRYPTION_TYPES) + "; got '"
                    + encryptionType + "'.");
        }
        Arm arm = session().arm();
        String where = location != null ? location : arm.group(group).path("location").asText();
        return print(arm.putDiskEncryptionSet(group, name, createBody(where, keyUrl, sourceVault, encryptionType,
                autoRotation)), COLUMNS);
    }

    /** The PUT body az sends for {@code az disk-encryption-set create}. */
    static ObjectNode createBody(String location, String keyUrl, String sourceVault, String encryptionType,
                                 Boolean autoRotation) {
        ObjectNode body = Json.object().put("location", location);
        body.putObject("identity").put("type", "SystemAssigned");
        ObjectNode properties = body.putObject("properties").put("encryptionType", encryptionType);
        ObjectNode activeKey = properties.putObject("activeKey").put("keyUrl", keyUrl);
        if (sourceVault != null) {
            activeKey.putObject("sourceVault").put("id", sourceVault);
        }
        if (autoRotation != null) {
            properties.put("rotationToLatestKeyVersionEnabled", autoRotation);
        }
        return body;
    }

    @Command(name = "update", description = "Point a Disk Encryption Set at another key version (re-wraps its "
            + "key; waits for the rotation) or switch automatic key rotation.")
    int update(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--key-url", paramLabel = "KID", description = "The new versioned key id.")
               String keyUrl,
               @Option(names = "--source-vault", paramLabel = "VAULT_ID") String sourceVault,
               @Option(names = "--enable-auto-key-rotation", arity = "0..1", fallbackValue = "true",
                       paramLabel = "BOOL") Boolean autoRotation) {
        if (keyUrl == null && autoRotation == null) {
            throw new UsageError("Say what to change: --key-url and/or --enable-auto-key-rotation.");
        }
        if (sourceVault != null && keyUrl == null) {
            throw new UsageError("--source-vault goes with --key-url.");
        }
        if (keyUrl != null) {
            checkKeyUrl(keyUrl);
        }
        return print(session().arm().patchDiskEncryptionSet(group, name, patchBody(keyUrl, sourceVault,
                autoRotation)), COLUMNS);
    }

    /** The PATCH body: only what changes. */
    static ObjectNode patchBody(String keyUrl, String sourceVault, Boolean autoRotation) {
        ObjectNode body = Json.object();
        ObjectNode properties = body.putObject("properties");
        if (keyUrl != null) {
            ObjectNode activeKey = properties.putObject("activeKey").put("keyUrl", keyUrl);
            if (sourceVault != null) {
                activeKey.putObject("sourceVault").put("id", sourceVault);
            }
        }
        if (autoRotation != null) {
            properties.put("rotationToLatestKeyVersionEnabled", autoRotation);
        }
        return body;
    }

    private static void checkKeyUrl(String keyUrl) {
        if (!VERSIONED_KEY_ID.matcher(keyUrl).matches()) {
            throw new UsageError("--key-url must be a versioned key id (https://{vault}/keys/{name}/{version}), "
                    + "got '" + keyUrl + "'. `coffre keyvault key show` prints it as key.kid.");
        }
    }

    @Command(name = "show", description = "Show a Disk Encryption Set.")
    int show(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().diskEncryptionSet(group, name), COLUMNS);
    }

    @Command(name = "list", description = "List Disk Encryption Sets of a resource group, or of the subscription.")
    int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
        return print(session().arm().diskEncryptionSets(group), COLUMNS);
    }

    @Command(name = "delete", description = "Delete a Disk Encryption Set (refused while disks or snapshots use it).")
    int delete(@Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(session().arm().deleteDiskEncryptionSet(group, name), COLUMNS);
    }
}
