package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.cli.Arm.VaultKind;
import io.coffre.json.Json;
import java.util.List;
import java.util.Objects;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "keyvault", description = "Manage key vaults and managed HSMs, their keys, local roles and audit log.",
        subcommands = {KeyCommand.class, HsmRoleCommand.class, AuditCommand.class})
final class KeyVaultCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Name", "name"),
            new Output.Column("ResourceGroup",
                    row -> Objects.toString(ResourceIds.part(row.path("id").asText(), "resourceGroups"), "")),
            field("Location", "location"), field("Type", "type"));
    static final List<Output.Column> DELETED_COLUMNS = List.of(field("Name", "name"),
            field("Location", "properties.location"), field("DeletionDate", "properties.deletionDate"),
            field("ScheduledPurgeDate", "properties.scheduledPurgeDate"));

    /** {@code -n NAME} for a key vault or {@code --hsm-name NAME} for a managed HSM. */
    static final class VaultRef {
        @Option(names = {"-n", "--name"}, paramLabel = "NAME", description = "Key vault name.")
        String vault;

        @Option(names = "--hsm-name", paramLabel = "NAME", description = "Managed HSM name.")
        String hsm;

        VaultKind kind() {
            return hsm != null ? VaultKind.MANAGED_HSM : VaultKind.VAULT;
        }

        String name() {
            return hsm != null ? hsm : vault;
        }
    }

    /** Who {@code set-policy} grants to: an object id, or a service principal name (app id) looked up like az. */
    static final class Grantee {
        @Option(names = "--object-id", paramLabel = "OID", description = "Object id of the principal.")
        String objectId;

        @Option(names = "--spn", paramLabel = "APPID", description = "Service principal name (app id).")
        String spn;
    }

    @Command(name = "create", description = {"Create a key vault (-n) or a managed HSM (--hsm-name).",
            "A key vault gets an access policy giving you all permissions, unless it uses RBAC."})
    int create(@ArgGroup(multiplicity = "1") VaultRef ref,
               @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG") String group,
               @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION") String location,
               @Option(names = "--sku", paramLabel = "SKU", description = "standard (default) or premium; key vaults.")
               String sku,
               @Option(names = "--enable-purge-protection", arity = "0..1", fallbackValue = "true",
                       paramLabel = "BOOL") Boolean purgeProtection,
               @Option(names = "--retention-days", defaultValue = "90", paramLabel = "N",
                       description = "Soft-delete retention in days (default: ${DEFAULT-VALUE}).") int retentionDays,
               @Option(names = "--enable-rbac-authorization", arity = "0..1", fallbackValue = "true",
                       paramLabel = "BOOL", description = "Key vaults: authorize data access with Azure RBAC.")
               Boolean rbac,
               @Option(names = "--administrators", arity = "1..*", paramLabel = "OID",
                       description = "Managed HSMs: object ids of the initial administrators.")
               List<String> administrators) {
        if (ref.kind() == VaultKind.MANAGED_HSM) {
            if (sku != null || rbac != null) {
                throw new UsageError("--sku and --enable-rbac-authorization are for key vaults (-n), not --hsm-name.");
            }
            if (administrators == null) {
                throw new UsageError("A managed HSM needs --administrators OID... (its initial administrators).");
            }
            ObjectNode body = hsmBody(location, session().tenantId(), administrators, retentionDays,
                    Boolean.TRUE.equals(purgeProtection));
            return print(session().arm().putVault(VaultKind.MANAGED_HSM, group, ref.name(), body), COLUMNS);
        }
        if (administrators != null) {
            throw new UsageError("--administrators is for managed HSMs (--hsm-name).");
        }
        String skuName = sku == null ? "standard" : sku.toLowerCase(java.util.Locale.ROOT);
        if (!skuName.equals("standard") && !skuName.equals("premium")) {
            throw new UsageError("--sku is standard or premium, got '" + sku + "'.");
        }
        Arm arm = session().arm();
        if (arm.findVault(VaultKind.VAULT, group, ref.name()).isPresent()) {
            throw new CliError("The specified vault: " + ref.name() + " already exists.");
        }
        boolean useRbac = Boolean.TRUE.equals(rbac);
        ObjectNode body = vaultBody(location, session().tenantId(), skuName, useRbac ? null : session().callerObjectId(),
                retentionDays, purgeProtection, rbac);
        return print(arm.putVault(VaultKind.VAULT, group, ref.name(), body), COLUMNS);
    }

    /** The PUT body az 2.45 sends for {@code keyvault create} (api 2022-07-01). */
    static ObjectNode vaultBody(String location, String tenantId, String sku, String ownerObjectId, int retentionDays,
                                Boolean purgeProtection, Boolean rbac) {
        ObjectNode properties = Json.object();
        properties.put("tenantId", tenantId);
        properties.putObject("sku").put("family", "A").put("name", sku);
        ArrayNode policies = properties.putArray("accessPolicies");
        if (ownerObjectId != null) {
            ObjectNode permissions = Json.object();
            for (String category : List.of("keys", "secrets", "certificates", "storage")) {
                permissions.putArray(category).add("all");
            }
            ObjectNode policy = policies.addObject().put("tenantId", tenantId).put("objectId", ownerObjectId);
            policy.set("permissions", permissions);
        }
        properties.put("enableSoftDelete", true);
        properties.put("softDeleteRetentionInDays", retentionDays);
        if (purgeProtection != null) {
            properties.put("enablePurgeProtection", purgeProtection);
        }
        if (rbac != null) {
            properties.put("enableRbacAuthorization", rbac);
        }
        properties.putObject("networkAcls").put("bypass", "AzureServices").put("defaultAction", "Allow");
        ObjectNode body = Json.object().put("location", location);
        body.set("properties", properties);
        return body;
    }

    /** The PUT body for a managed HSM (api 2023-07-01). */
    static ObjectNode hsmBody(String location, String tenantId, List<String> administrators, int retentionDays,
                              boolean purgeProtection) {
        ObjectNode body = Json.object().put("location", location);
        body.putObject("sku").put("family", "B").put("name", "Standard_B1");
        ObjectNode properties = body.putObject("properties");
        properties.put("tenantId", tenantId);
        ArrayNode admins = properties.putArray("initialAdminObjectIds");
        administrators.forEach(admins::add);
        properties.put("enableSoftDelete", true);
        properties.put("softDeleteRetentionInDays", retentionDays);
        properties.put("enablePurgeProtection", purgeProtection);
        return body;
    }

    @Command(name = "show", description = "Show a key vault or managed HSM.")
    int show(@ArgGroup(multiplicity = "1") VaultRef ref,
             @Option(names = {"-g", "--resource-group"}, paramLabel = "RG",
                     description = "Resource group (default: found by name).") String group) {
        Arm arm = session().arm();
        String rg = group != null ? group : arm.groupOf(ref.kind(), ref.name());
        return print(arm.vault(ref.kind(), rg, ref.name()), COLUMNS);
    }

    @Command(name = "list", description = "List key vaults and managed HSMs.")
    int list(@Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group,
             @Option(names = "--resource-type", paramLabel = "TYPE", description = "vault or hsm (default: both).")
             String type) {
        List<VaultKind> kinds = kinds(type);
        Arm arm = session().arm();
        ArrayNode all = Json.MAPPER.createArrayNode();
        for (VaultKind kind : kinds) {
            all.addAll(arm.vaults(kind, group));
        }
        return print(all, COLUMNS);
    }

    @Command(name = "delete", description = "Delete (soft-delete) a key vault or managed HSM.")
    int delete(@ArgGroup(multiplicity = "1") VaultRef ref,
               @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group) {
        Arm arm = session().arm();
        String rg = group != null ? group : arm.groupOf(ref.kind(), ref.name());
        return print(arm.deleteVault(ref.kind(), rg, ref.name()), COLUMNS);
    }

    @Command(name = "list-deleted", description = "List soft-deleted key vaults and managed HSMs.")
    int listDeleted(@Option(names = "--resource-type", paramLabel = "TYPE",
                            description = "vault or hsm (default: both).") String type) {
        List<VaultKind> kinds = kinds(type);
        Arm arm = session().arm();
        ArrayNode all = Json.MAPPER.createArrayNode();
        for (VaultKind kind : kinds) {
            all.addAll(arm.deletedVaults(kind));
        }
        return print(all, DELETED_COLUMNS);
    }

    @Command(name = "show-deleted", description = "Show a soft-deleted key vault or managed HSM.")
    int showDeleted(@ArgGroup(multiplicity = "1") VaultRef ref,
                    @Option(names = {"-l", "--location"}, paramLabel = "LOCATION") String location) {
        Arm arm = session().arm();
        String loc = location != null ? location : arm.deletedLocation(ref.kind(), ref.name());
        return print(arm.deletedVault(ref.kind(), loc, ref.name()), DELETED_COLUMNS);
    }

    @Command(name = "purge", description = "Permanently delete a soft-deleted key vault or managed HSM.")
    int purge(@ArgGroup(multiplicity = "1") VaultRef ref,
              @Option(names = {"-l", "--location"}, paramLabel = "LOCATION") String location) {
        Arm arm = session().arm();
        String loc = location != null ? location : arm.deletedLocation(ref.kind(), ref.name());
        return print(arm.purgeVault(ref.kind(), loc, ref.name()), null);
    }

    @Command(name = "recover", description = "Recover a soft-deleted key vault or managed HSM.")
    int recover(@ArgGroup(multiplicity = "1") VaultRef ref,
                @Option(names = {"-g", "--resource-group"}, paramLabel = "RG",
                        description = "Resource group (default: the one it was deleted from).") String group,
                @Option(names = {"-l", "--location"}, paramLabel = "LOCATION") String location) {
        Arm arm = session().arm();
        VaultKind kind = ref.kind();
        String loc = location != null ? location : arm.deletedLocation(kind, ref.name());
        JsonNode deleted = arm.deletedVault(kind, loc, ref.name());
        String originalId = deleted.path("properties").path(kind == VaultKind.VAULT ? "vaultId" : "mhsmId").asText();
        String rg = group != null ? group : ResourceIds.part(originalId, "resourceGroups");
        if (rg == null) {
            throw new CliError("The deleted " + kind.label + " does not say its resource group; pass -g.");
        }
        ObjectNode body = Json.object().put("location", loc);
        ObjectNode properties = Json.object().put("tenantId", session().tenantId()).put("createMode", "recover");
        if (kind == VaultKind.VAULT) {
            properties.putObject("sku").put("family", "A").put("name", "standard");
        } else {
            body.putObject("sku").put("family", "B").put("name", "Standard_B1");
        }
        body.set("properties", properties);
        return print(arm.putVault(kind, rg, ref.name(), body), COLUMNS);
    }

    @Command(name = "set-policy", description = "Grant key permissions on a key vault (access policy), as az does: "
            + "read the vault, add or update the principal's policy, write the vault back.")
    int setPolicy(@Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                  @Option(names = {"-g", "--resource-group"}, paramLabel = "RG") String group,
                  @ArgGroup(multiplicity = "1") Grantee grantee,
                  @Option(names = "--key-permissions", arity = "1..*", required = true, paramLabel = "PERMISSION",
                          description = "e.g. get list backup wrapKey unwrapKey release (replaces earlier ones).")
                  List<String> keyPermissions) {
        Arm arm = session().arm();
        String rg = group != null ? group : arm.groupOf(VaultKind.VAULT, name);
        String objectId = grantee.objectId != null ? grantee.objectId : session().graph().objectIdBySpn(grantee.spn);
        JsonNode vault = arm.vault(VaultKind.VAULT, rg, name);
        return print(arm.putVault(VaultKind.VAULT, rg, name, withKeyPermissions(vault, objectId, keyPermissions)),
                COLUMNS);
    }

    /** The vault with the principal's key permissions set (its other permissions and policies kept). */
    static ObjectNode withKeyPermissions(JsonNode vault, String objectId, List<String> keyPermissions) {
        ObjectNode updated = vault.deepCopy();
        ObjectNode properties = updated.withObjectProperty("properties");
        String tenantId = properties.path("tenantId").asText();
        ArrayNode policies = properties.withArrayProperty("accessPolicies");
        ObjectNode policy = null;
        for (JsonNode existing : policies) {
            if (existing.path("objectId").asText().equalsIgnoreCase(objectId)
                    && existing.path("tenantId").asText().equalsIgnoreCase(tenantId)) {
                policy = (ObjectNode) existing;
            }
        }
        if (policy == null) {
            policy = policies.addObject().put("tenantId", tenantId).put("objectId", objectId);
        }
        ArrayNode keys = policy.withObjectProperty("permissions").putArray("keys");
        keyPermissions.forEach(keys::add);
        return updated;
    }

    private static List<VaultKind> kinds(String type) {
        if (type == null) {
            return List.of(VaultKind.values());
        }
        return switch (type.toLowerCase(java.util.Locale.ROOT)) {
            case "vault" -> List.of(VaultKind.VAULT);
            case "hsm" -> List.of(VaultKind.MANAGED_HSM);
            default -> throw new UsageError("--resource-type is vault or hsm, got '" + type + "'.");
        };
    }
}
