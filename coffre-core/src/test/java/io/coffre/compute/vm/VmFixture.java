package io.coffre.compute.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.identity.Directory;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService.Store;
import io.coffre.keyvault.crypto.ReleasePolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert;

/**
 * A real core with what confidential VMs need: a Premium vault with purge protection, an exportable RSA-HSM key
 * with the default CVM release policy, a confidential DES whose identity may use the key, and the Confidential VM
 * Orchestrator allowed to release it.
 */
final class VmFixture implements AutoCloseable {
    static final String CVM_DES_TYPE = "ConfidentialVmEncryptedWithCustomerKey";
    static final String AMD_SIZE = "Standard_DC2as_v6";

    final Path dir;
    final CoffreCore core;
    final VirtualMachines vms;
    final Principal admin;
    final Principal orchestrator;
    final String subscription;
    final Store vault = Store.vault("kv-cvm");

    VmFixture(Path dir) {
        this.dir = dir;
        core = TestCores.open(dir);
        vms = core.virtualMachines();
        admin = core.identity().admin();
        orchestrator = core.identity().find(Directory.CVM_ORCHESTRATOR_APP_ID).orElseThrow();
        subscription = core.identity().defaultSubscriptionId();
        core.resourceManager().putResourceGroup(admin, subscription, "rg", "uaenorth", Map.of());
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("sku").put("family", "A").put("name", "premium");
        p.put("tenantId", core.identity().tenantId());
        p.put("enablePurgeProtection", true);
        p.putArray("accessPolicies").add(accessPolicy(admin, "all"));
        core.keyService().putStore(admin, subscription, "rg", vault, body);
    }

    /** A key with a release policy (the default CVM one when null) and a confidential DES over it. */
    String cvmDes(String desName, String keyName, byte[] releasePolicyOrNull) {
        ObjectNode params = Json.object().put("kty", "RSA-HSM").put("key_size", 3072);
        params.putObject("attributes").put("exportable", true);
        byte[] policy = releasePolicyOrNull != null ? releasePolicyOrNull
                : ReleasePolicy.defaultCvmPolicy(core.endpoints().attestationIssuer());
        params.putObject("release_policy").put("contentType", "application/json; charset=utf-8")
                .put("data", Json.b64url(policy));
        String keyUrl = core.keyService().createKey(admin, vault, keyName, params).path("key").path("kid").asText();
        ObjectNode des = Json.object().put("location", "uaenorth");
        des.putObject("identity").put("type", "SystemAssigned");
        des.putObject("properties").put("encryptionType", CVM_DES_TYPE).putObject("activeKey")
                .put("keyUrl", keyUrl);
        String principal = core.diskEncryptionSets().put(admin, subscription, "rg", desName, des).resource()
                .path("identity").path("principalId").asText();
        grant(principal, "get", "wrapKey", "unwrapKey");
        // the DES makes its own key on first use: done here, so tests compare storage around the VM calls only
        core.encryptionKeys().check(admin, new io.coffre.compute.EncryptionKeys.Setting(CVM_DES_TYPE,
                desId(desName), "uaenorth"));
        return desId(desName);
    }

    /** An Unattached empty disk of 1 GiB in group rg, made outside any VM. */
    void emptyDisk(String name) {
        ObjectNode disk = Json.object().put("location", "uaenorth");
        disk.putObject("properties").put("diskSizeGB", 1).putObject("creationData").put("createOption", "Empty");
        core.disks().put(admin, io.coffre.compute.Disks.Kind.DISK, subscription, "rg", name, disk);
    }

    String desId(String name) {
        return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute/"
                + "diskEncryptionSets/" + name;
    }

    String vmId(String name) {
        return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/"
                + name;
    }

    String diskId(String name) {
        return "/subscriptions/" + subscription + "/resourceGroups/rg/providers/Microsoft.Compute/disks/" + name;
    }

    /** Replaces the vault's access policy of the principal (none when no permissions). */
    void grant(String principalId, String... permissions) {
        ObjectNode resource = core.keyService().getStore(admin, subscription, "rg", vault);
        ArrayNode policies = (ArrayNode) resource.path("properties").path("accessPolicies");
        for (int i = policies.size() - 1; i >= 0; i--) {
            if (policies.get(i).path("objectId").asText().equals(principalId)) {
                policies.remove(i);
            }
        }
        if (permissions.length > 0) {
            policies.add(accessPolicy(core.identity().find(principalId).orElseThrow(), permissions));
        }
        core.keyService().putStore(admin, subscription, "rg", vault, resource);
    }

    static ObjectNode accessPolicy(Principal principal, String... permissions) {
        ObjectNode policy = Json.object();
        policy.put("tenantId", principal.tenantId()).put("objectId", principal.objectId());
        ArrayNode keys = policy.putObject("permissions").putArray("keys");
        for (String p : permissions) {
            keys.add(p);
        }
        return policy;
    }

    /** A confidential VM body: DiskWithVMGuestState with the DES (CMK) or without (PMK), data disks of 1 GiB. */
    ObjectNode cvmBody(String size, String encryptionType, String desIdOrNull, int dataDisks) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", size);
        ObjectNode security = p.putObject("securityProfile").put("securityType", "ConfidentialVM");
        security.putObject("uefiSettings").put("secureBootEnabled", true).put("vTpmEnabled", true);
        ObjectNode storage = p.putObject("storageProfile");
        ObjectNode os = storage.putObject("osDisk").put("createOption", "FromImage").put("deleteOption", "Delete")
                .put("diskSizeGB", 2);
        ObjectNode osSecurity = os.putObject("managedDisk").put("storageAccountType", "StandardSSD_LRS")
                .putObject("securityProfile");
        if (encryptionType != null) {
            osSecurity.put("securityEncryptionType", encryptionType);
        }
        if (desIdOrNull != null) {
            osSecurity.putObject("diskEncryptionSet").put("id", desIdOrNull);
        }
        ArrayNode data = storage.putArray("dataDisks");
        for (int lun = 0; lun < dataDisks; lun++) {
            data.addObject().put("lun", lun).put("createOption", "Empty").put("diskSizeGB", 1)
                    .put("deleteOption", "Detach");
        }
        p.putObject("osProfile").put("computerName", "cvm").put("adminUsername", "azureuser");
        return body;
    }

    AsyncOperations.Operation await(String operationId) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            AsyncOperations.Operation op = core.asyncOperations().get(operationId).orElseThrow();
            if (op.isDone()) {
                return op;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new AssertionError("operation " + operationId + " did not finish");
    }

    /** Creates the VM and waits; asserts the create succeeded. */
    ObjectNode create(String name, ObjectNode body) {
        VirtualMachines.Accepted accepted = vms.put(admin, subscription, "rg", name, body);
        AsyncOperations.Operation op = await(accepted.operationId());
        assertThat(op.status()).as(op.errorCode() + ": " + op.errorMessage()).isEqualTo(AsyncOperations.Status.Succeeded);
        return vms.get(admin, subscription, "rg", name, true);
    }

    AsyncOperations.Operation act(String name, VirtualMachines.Action action) {
        return await(vms.act(admin, subscription, "rg", name, action));
    }

    static ArmException rejects(ThrowableAssert.ThrowingCallable call, int status, String code) {
        ArmException e = catchThrowableOfType(ArmException.class, call);
        assertThat(e).as("expected ArmException %s %s", status, code).isNotNull();
        assertThat(e.status()).as(e.getMessage()).isEqualTo(status);
        assertThat(e.code()).as(e.getMessage()).isEqualTo(code);
        return e;
    }

    /**
     * Every row of the compute and disk-store tables and of the resource index, and the blob files: what a rejected
     * call must leave as it was.
     */
    Map<String, List<String>> storage() {
        Map<String, List<String>> tables = new TreeMap<>();
        for (String table : core.metadata().tables()) {
            String t = table.toLowerCase(java.util.Locale.ROOT);
            if (t.startsWith("compute_") || t.startsWith("disk_") || t.equals("arm_resources")) {
                tables.put(t, core.metadata().withHandle(h -> h.createQuery("SELECT * FROM " + table).mapToMap()
                        .list().stream().map(VmFixture::describeRow).sorted().toList()));
            }
        }
        try (Stream<Path> files = Files.walk(dir.resolve("blobs"))) {
            tables.put("blob files", files.filter(Files::isRegularFile).map(Path::toString).sorted().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return tables;
    }

    private static String describeRow(Map<String, Object> row) {
        Map<String, String> described = new TreeMap<>();
        row.forEach((k, v) -> described.put(k, v instanceof byte[] b ? java.util.HexFormat.of().formatHex(b)
                : String.valueOf(v)));
        return described.toString();
    }

    ArmException rejectsWithoutWriting(ThrowableAssert.ThrowingCallable call, int status, String code) {
        Map<String, List<String>> before = storage();
        ArmException e = rejects(call, status, code);
        assertThat(storage()).as("storage after a rejected call").isEqualTo(before);
        return e;
    }

    static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        core.close();
    }
}
