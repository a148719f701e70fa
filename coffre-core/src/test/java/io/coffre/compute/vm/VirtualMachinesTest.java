package io.coffre.compute.vm;

import static io.coffre.compute.vm.VmFixture.AMD_SIZE;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.Disks;
import io.coffre.compute.disk.BlockDevice;
import io.coffre.compute.vm.VirtualMachines.Action;
import io.coffre.compute.vm.VirtualMachines.DiskRole;
import io.coffre.compute.vm.VirtualMachines.VmDisk;
import io.coffre.compute.vm.VirtualMachines.VmFacts;
import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Confidential VMs on a real core: validation, lifecycle, key release at create and start. */
class VirtualMachinesTest {
    @TempDir
    Path dir;
    private VmFixture f;
    private String des;

    @BeforeEach
    void open() {
        f = new VmFixture(dir);
        des = f.cvmDes("des-cvm", "cvm-key", null);
        f.grant(f.orchestrator.objectId(), "get", "release");
    }

    @AfterEach
    void close() {
        f.close();
    }

    /**
     * {@code az vm resize}: a PUT (or PATCH) with another {@code hardwareProfile.vmSize}, to a size of the VM's region
     * and confidential hardware that takes its data disks. A running VM is resized by a restart, which releases its
     * key again; a stopped one at once, and its next start releases the key.
     */
    @Test
    void aConfidentialVmIsResizedWithinItsHardwareAndRegion() {
        f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 2));
        ObjectNode bigger = f.vms.get(f.admin, f.subscription, "rg", "vm1", false).deepCopy();
        ((ObjectNode) bigger.path("properties").path("hardwareProfile")).put("vmSize", "Standard_DC4as_v6");
        long released = releasesBy(f.orchestrator.objectId());
        VirtualMachines.Accepted restarted = f.vms.put(f.admin, f.subscription, "rg", "vm1", bigger);
        assertThat(f.await(restarted.operationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.vms.find(f.vmId("vm1")).orElseThrow().vmSize()).isEqualTo("Standard_DC4as_v6");
        assertThat(power("vm1")).isEqualTo("PowerState/running");
        assertThat(releasesBy(f.orchestrator.objectId())).as("released again by the restart").isEqualTo(released + 1);

        assertThat(f.act("vm1", Action.DEALLOCATE).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.vms.availableSizes(f.admin, f.subscription, "rg", "vm1"))
                .extracting(size -> size.path("name").asText())
                .contains(AMD_SIZE, "Standard_DC4as_v6", "Standard_EC2as_v6", "Standard_DC2as_v5")
                .doesNotContain("Standard_DC2es_v6", "Standard_D2s_v5");

        resizeRejected("Standard_D2s_v5", 400, "BadRequest", "does not support security type ConfidentialVM");
        resizeRejected("Standard_DC2es_v6", 409, "OperationNotAllowed", "AMD_SEV_SNP", "INTEL_TDX");
        resizeRejected("Standard_DC2as_v7", 400, "SkuNotAvailable", "Close matches");
        ObjectNode withDisks = f.vms.get(f.admin, f.subscription, "rg", "vm1", false).deepCopy();
        ((ObjectNode) withDisks.path("properties").path("hardwareProfile")).put("vmSize", "Standard_DC8as_v6");
        ((ObjectNode) withDisks.path("properties").path("storageProfile")).putArray("dataDisks");
        f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", withDisks), 409,
                "OperationNotAllowed");

        ObjectNode smaller = f.vms.get(f.admin, f.subscription, "rg", "vm1", false).deepCopy();
        ((ObjectNode) smaller.path("properties").path("hardwareProfile")).put("vmSize", AMD_SIZE);
        VirtualMachines.Accepted resized = f.vms.put(f.admin, f.subscription, "rg", "vm1", smaller);
        assertThat(f.await(resized.operationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(resized.resource().at("/properties/hardwareProfile/vmSize").asText()).isEqualTo(AMD_SIZE);
        assertThat(f.vms.find(f.vmId("vm1")).orElseThrow().vmSize()).isEqualTo(AMD_SIZE);
        assertThat(power("vm1")).as("a stopped VM stays stopped").isEqualTo("PowerState/deallocated");
        assertThat(f.vms.get(f.admin, f.subscription, "rg", "vm1", false).at("/properties/storageProfile/dataDisks"))
                .as("the data disks stay").hasSize(2);

        // a PATCH resizes as az's generic update does; the tags it carries change with it
        VirtualMachines.Accepted patched = f.vms.patch(f.admin, f.subscription, "rg", "vm1",
                Json.parse("{\"tags\":{\"size\":\"ec\"},\"properties\":{\"hardwareProfile\":{\"vmSize\":"
                        + "\"standard_ec2as_v6\"}}}"));
        assertThat(patched.resource().at("/properties/hardwareProfile/vmSize").asText()).isEqualTo("Standard_EC2as_v6");
        assertThat(patched.resource().at("/tags/size").asText()).isEqualTo("ec");

        long releases = releasesBy(f.orchestrator.objectId());
        assertThat(f.act("vm1", Action.START).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(power("vm1")).isEqualTo("PowerState/running");
        assertThat(releasesBy(f.orchestrator.objectId())).as("released again at the start").isEqualTo(releases + 1);

        // a restart whose release is refused leaves the VM stopped at its new size, as a failed start does
        f.grant(f.orchestrator.objectId(), "get");
        VirtualMachines.Accepted refused = f.vms.patch(f.admin, f.subscription, "rg", "vm1",
                Json.parse("{\"properties\":{\"hardwareProfile\":{\"vmSize\":\"Standard_EC4as_v6\"}}}"));
        AsyncOperations.Operation failed = f.await(refused.operationId());
        assertThat(failed.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(failed.errorMessage()).contains("release");
        assertThat(power("vm1")).isEqualTo("PowerState/stopped");
        assertThat(f.vms.find(f.vmId("vm1")).orElseThrow().vmSize()).isEqualTo("Standard_EC4as_v6");
    }

    private void resizeRejected(String size, int status, String code, String... messageParts) {
        ObjectNode body = Json.object();
        body.putObject("properties").putObject("hardwareProfile").put("vmSize", size);
        var e = f.rejectsWithoutWriting(() -> f.vms.patch(f.admin, f.subscription, "rg", "vm1", body), status, code);
        assertThat(e.getMessage()).contains(messageParts);
    }

    private void rejected(ObjectNode body, int status, String code, String... messageParts) {
        var e = f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", body), status, code);
        assertThat(e.getMessage()).contains(messageParts);
    }

    @Test
    void invalidBodiesAreRefusedBeforeAnythingIsWritten() {
        rejected(f.cvmBody("Standard_DC2as_v9", "DiskWithVMGuestState", des, 0), 400, "SkuNotAvailable",
                "Standard_DC2as_v9", "Close matches");
        ObjectNode badRegion = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0).put("location", "atlantis");
        rejected(badRegion, 400, "LocationNotAvailableForResourceType", "atlantis");
        rejected(f.cvmBody("Standard_D2s_v5", "DiskWithVMGuestState", des, 0), 400, "BadRequest",
                "Standard_D2s_v5", "ConfidentialVM");
        ObjectNode v6WhereThereIsNone = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0)
                .put("location", "Brazil South");
        rejected(v6WhereThereIsNone, 409, "SkuNotAvailable", "'" + AMD_SIZE + "' is not available in location "
                + "'brazilsouth'", "ConfidentialVM security type is not supported in this region", "uaenorth");
        ObjectNode v5WhereV6Only = f.cvmBody("Standard_DC2as_v5", "DiskWithVMGuestState", des, 0)
                .put("location", "uaecentral");
        rejected(v5WhereV6Only, 409, "SkuNotAvailable", "Sizes available in 'uaecentral' for confidential VMs: "
                + "Standard_DC2as_v6", "Standard_DC2es_v6");
        rejected(f.cvmBody(AMD_SIZE, null, des, 0), 400, "InvalidParameter",
                "Required parameter for Confidential VMs 'managedDisk.securityProfile.securityEncryptionType'");
        rejected(f.cvmBody(AMD_SIZE, "WholeDisk", null, 0), 400, "InvalidParameter", "WholeDisk",
                "DiskWithVMGuestState");
        rejected(f.cvmBody(AMD_SIZE, "VMGuestStateOnly", des, 0), 400, "InvalidParameter",
                "diskEncryptionSet", "DiskWithVMGuestState");

        ObjectNode standard = f.cvmBody("Standard_D2s_v5", "DiskWithVMGuestState", null, 0);
        ((ObjectNode) standard.path("properties").path("securityProfile")).put("securityType", "Standard")
                .remove("uefiSettings");
        rejected(standard, 400, "InvalidParameter", "confidential VMs only");

        ObjectNode noVtpm = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0);
        ((ObjectNode) noVtpm.path("properties").path("securityProfile").path("uefiSettings"))
                .put("vTpmEnabled", false);
        rejected(noVtpm, 400, "InvalidParameter", "vTpmEnabled");

        ObjectNode dataDiskEncryption = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 1);
        ((ObjectNode) dataDiskEncryption.path("properties").path("storageProfile").path("dataDisks").get(0))
                .putObject("managedDisk").putObject("securityProfile")
                .put("securityEncryptionType", "DiskWithVMGuestState");
        rejected(dataDiskEncryption, 400, "InvalidParameter", "not allowed on data disks");

        rejected(f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 5), 409, "OperationNotAllowed",
                "maximum number of data disks", "4");

        ObjectNode atRestDes = Json.object().put("location", "uaenorth");
        atRestDes.putObject("identity").put("type", "SystemAssigned");
        String keyUrl = f.core.keyService().createKey(f.admin, f.vault, "sse-key",
                Json.parse("{\"kty\":\"RSA\"}")).path("key").path("kid").asText();
        atRestDes.putObject("properties").put("encryptionType", "EncryptionAtRestWithCustomerKey")
                .putObject("activeKey").put("keyUrl", keyUrl);
        f.core.diskEncryptionSets().put(f.admin, f.subscription, "rg", "des-sse", atRestDes);
        rejected(f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", f.desId("des-sse"), 0), 400, "InvalidParameter",
                "des-sse", "ConfidentialVmEncryptedWithCustomerKey");
    }

    @Test
    void cmkConfidentialVmLifecycle() {
        ObjectNode vm = f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 2));
        JsonNode p = vm.path("properties");
        assertThat(p.path("provisioningState").asText()).isEqualTo("Succeeded");
        assertThat(p.path("vmId").asText()).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
        assertThat(statuses(p.path("instanceView"))).containsExactly("ProvisioningState/succeeded",
                "PowerState/running");

        String osDiskId = p.path("storageProfile").path("osDisk").path("managedDisk").path("id").asText();
        assertThat(osDiskId).isEqualToIgnoringCase(f.diskId("vm1_OsDisk_1"));
        ObjectNode osDisk = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "vm1_OsDisk_1");
        assertThat(osDisk.path("managedBy").asText()).isEqualTo(f.vmId("vm1"));
        assertThat(osDisk.path("properties").path("diskState").asText()).isEqualTo("Attached");
        assertThat(osDisk.path("properties").path("diskSizeGB").asInt()).isEqualTo(2);
        assertThat(osDisk.path("properties").path("securityProfile").path("securityType").asText())
                .isEqualTo("ConfidentialVM_DiskEncryptedWithCustomerKey");
        assertThat(osDisk.path("properties").path("securityProfile").path("secureVMDiskEncryptionSetId").asText())
                .isEqualToIgnoringCase(des);
        ObjectNode dataDisk = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "vm1_disk1");
        assertThat(dataDisk.path("properties").path("diskState").asText()).isEqualTo("Attached");
        assertThat(dataDisk.path("properties").path("encryption").path("type").asText())
                .isEqualTo("EncryptionAtRestWithPlatformKey");

        VmFacts facts = f.vms.find(f.vmId("vm1")).orElseThrow();
        assertThat(facts.disks()).extracting(VmDisk::role).containsExactly(DiskRole.OS, DiskRole.VMGS,
                DiskRole.DATA, DiskRole.DATA);
        VmDisk vmgs = facts.disks().get(1);
        assertThat(vmgs.encryption()).isEqualTo(facts.disks().get(0).encryption());
        assertThat(vmgs.encryption().diskEncryptionSetId()).isEqualToIgnoringCase(des);
        assertThat(f.core.diskStore().info(vmgs.storeId()).sizeBytes()).isEqualTo(4L * 1024 * 1024);
        byte[] head = new byte[64];
        try (BlockDevice device = f.core.diskStore().open(vmgs.storeId())) {
            device.read(0, head, 0, head.length);
        }
        assertThat(new String(head, StandardCharsets.UTF_8)).startsWith("COFFRE-VMGS 1 vm=" + facts.vmId());
        assertThat(facts.model().path("properties").path("hardwareProfile").path("vmSize").asText())
                .isEqualTo(AMD_SIZE);

        // the orchestrator released the key once, with a SEV-SNP attestation
        assertThat(releasesBy(f.orchestrator.objectId())).isEqualTo(1);

        assertThat(f.act("vm1", Action.POWER_OFF).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(power("vm1")).isEqualTo("PowerState/stopped");
        assertThat(f.act("vm1", Action.DEALLOCATE).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(power("vm1")).isEqualTo("PowerState/deallocated");
        assertThat(f.act("vm1", Action.START).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(power("vm1")).isEqualTo("PowerState/running");
        assertThat(releasesBy(f.orchestrator.objectId())).isEqualTo(2);
        assertThat(f.act("vm1", Action.RESTART).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(releasesBy(f.orchestrator.objectId())).isEqualTo(3);

        assertThat(f.vms.list(f.admin, f.subscription, null)).extracting(v -> v.path("name").asText())
                .containsExactly("vm1");
        VirtualMachines.Accepted tagged = f.vms.patch(f.admin, f.subscription, "rg", "vm1",
                Json.parse("{\"tags\":{\"env\":\"test\"}}"));
        assertThat(f.await(tagged.operationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(tagged.resource().path("tags").path("env").asText()).isEqualTo("test");

        // delete: the OS disk (deleteOption Delete) goes with its guest state, the data disks (Detach) stay
        String op = f.vms.delete(f.admin, f.subscription, "rg", "vm1").orElseThrow();
        assertThat(f.await(op).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.vms.find(f.vmId("vm1"))).isEmpty();
        assertThat(f.core.disks().facts(osDiskId)).isEmpty();
        assertThat(f.vms.guestState(osDiskId)).isEmpty();
        VmFixture.rejects(() -> f.core.diskStore().info(vmgs.storeId()), 404, "DiskNotFound");
        ObjectNode detached = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "vm1_disk0");
        assertThat(detached.path("properties").path("diskState").asText()).isEqualTo("Unattached");
        assertThat(detached.has("managedBy")).isFalse();
        assertThat(f.vms.delete(f.admin, f.subscription, "rg", "vm1")).isEmpty();
    }

    @Test
    void platformKeyVmsNeedNoRelease() {
        f.create("pmk", f.cvmBody("Standard_DC2es_v6", "DiskWithVMGuestState", null, 0));
        ObjectNode os = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "pmk_OsDisk_1");
        assertThat(os.path("properties").path("securityProfile").path("securityType").asText())
                .isEqualTo("ConfidentialVM_DiskEncryptedWithPlatformKey");
        f.create("gso", f.cvmBody(AMD_SIZE, "VMGuestStateOnly", null, 0));
        ObjectNode gsoOs = f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "gso_OsDisk_1");
        assertThat(gsoOs.path("properties").path("securityProfile").path("securityType").asText())
                .isEqualTo("ConfidentialVM_VMGuestStateOnlyEncryptedWithPlatformKey");
        assertThat(f.vms.find(f.vmId("gso")).orElseThrow().disks()).extracting(VmDisk::role)
                .containsExactly(DiskRole.OS, DiskRole.VMGS);
        ObjectNode standard = f.cvmBody("Standard_D2s_v5", null, null, 0);
        ObjectNode security = (ObjectNode) standard.path("properties").path("securityProfile");
        security.put("securityType", "TrustedLaunch");
        ((ObjectNode) standard.path("properties").path("storageProfile").path("osDisk").path("managedDisk"))
                .remove("securityProfile");
        f.create("tl", standard);
        assertThat(f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "tl_OsDisk_1")
                .at("/properties/securityProfile/securityType").asText()).isEqualTo("TrustedLaunch");
        assertThat(f.vms.find(f.vmId("tl")).orElseThrow().disks()).extracting(VmDisk::role)
                .containsExactly(DiskRole.OS);
        assertThat(releasesBy(f.orchestrator.objectId())).isZero();
    }

    @Test
    void theGuestStateFollowsItsOsDiskToTheNextVmAndGoesWithIt() {
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0);
        ((ObjectNode) body.path("properties").path("storageProfile").path("osDisk")).put("deleteOption", "Detach");
        f.create("first", body);
        VmDisk vmgs = f.vms.find(f.vmId("first")).orElseThrow().disks().get(1);
        assertThat(f.await(f.vms.delete(f.admin, f.subscription, "rg", "first").orElseThrow()).status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        String osDisk = f.diskId("first_OsDisk_1");
        assertThat(f.vms.guestState(osDisk)).contains(vmgs.storeId());

        ObjectNode attach = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0);
        ObjectNode os = (ObjectNode) attach.path("properties").path("storageProfile").path("osDisk");
        os.put("createOption", "Attach").put("deleteOption", "Detach").remove("diskSizeGB");
        ((ObjectNode) os.path("managedDisk")).put("id", osDisk);
        f.create("second", attach);
        VmFacts second = f.vms.find(f.vmId("second")).orElseThrow();
        assertThat(second.disks()).extracting(VmDisk::storeId).contains(vmgs.storeId());
        assertThat(releasesBy(f.orchestrator.objectId())).isEqualTo(2);

        assertThat(f.await(f.vms.delete(f.admin, f.subscription, "rg", "second").orElseThrow()).status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(f.core.disks().delete(f.admin, Disks.Kind.DISK, f.subscription, "rg", "first_OsDisk_1"))
                .isTrue();
        assertThat(f.vms.guestState(osDisk)).isEmpty();
        VmFixture.rejects(() -> f.core.diskStore().info(vmgs.storeId()), 404, "DiskNotFound");
    }

    @Test
    void aReaderSeesTheVmButCannotStartOrDeleteIt() {
        f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0));
        io.coffre.identity.Principal reader = f.core.identity().createServicePrincipal("reader").principal();
        f.core.accessControl().grantBySystem("/subscriptions/" + f.subscription + "/resourceGroups/rg",
                io.coffre.authorization.BuiltInRoles.READER, reader.objectId());
        assertThat(f.vms.get(reader, f.subscription, "rg", "vm1", false).path("name").asText()).isEqualTo("vm1");
        assertThat(f.vms.list(reader, f.subscription, "rg")).hasSize(1);
        var e = f.rejectsWithoutWriting(() -> f.vms.act(reader, f.subscription, "rg", "vm1", Action.POWER_OFF), 403,
                "AuthorizationFailed");
        assertThat(e.getMessage()).contains("Microsoft.Compute/virtualMachines/powerOff/action");
        f.rejectsWithoutWriting(() -> f.vms.delete(reader, f.subscription, "rg", "vm1"), 403,
                "AuthorizationFailed");
        f.rejectsWithoutWriting(() -> f.vms.put(reader, f.subscription, "rg", "vm2",
                f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0)), 403, "AuthorizationFailed");
    }

    @Test
    void putOnAnExistingVmUpdatesTags() {
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0);
        f.create("vm1", body);
        body.putObject("tags").put("team", "a");
        VirtualMachines.Accepted again = f.vms.put(f.admin, f.subscription, "rg", "vm1", body);
        assertThat(again.created()).isFalse();
        assertThat(f.await(again.operationId()).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(again.resource().at("/tags/team").asText()).isEqualTo("a");
        ((ObjectNode) body.path("properties").path("securityProfile")).put("securityType", "TrustedLaunch");
        var e = f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", body), 409,
                "PropertyChangeNotAllowed");
        assertThat(e.getMessage()).contains("ConfidentialVM", "TrustedLaunch");
    }

    @Test
    void anUpdateOfAVmWhoseCreateWasInterruptedIsRefused() {
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0);
        f.create("vm1", body);
        // what a restart makes of a VM whose create a crash interrupted
        f.core.metadata().inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state ="
                + " 'Failed'").execute());
        body.putObject("tags").put("team", "a");
        var e = f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm1", body), 409,
                "OperationNotAllowed");
        assertThat(e.getMessage()).contains("Failed", "delete it and create it again");
    }

    @Test
    void aCreateWhoseOperationWasNeverRecordedLeavesTheVmFailedAndItsDeleteTakesNoDiskItDidNotAttach() {
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 1);
        ((ObjectNode) body.at("/properties/storageProfile/dataDisks/0")).put("deleteOption", "Delete");
        f.create("vm1", body);
        // what a crash between the VM's commit and its operation's leaves: the VM Creating, none of its disks made
        for (String disk : List.of("vm1_OsDisk_1", "vm1_disk0")) {
            f.core.disks().setManagedBy(f.diskId(disk), null);
            f.core.disks().delete(f.admin, Disks.Kind.DISK, f.subscription, "rg", disk);
        }
        f.core.metadata().inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state ="
                + " 'Creating', power_state = 'STOPPED'").execute());
        f.close();
        f = new VmFixture(dir);
        assertThat(f.vms.get(f.admin, f.subscription, "rg", "vm1", false).at("/properties/provisioningState")
                .asText()).isEqualTo("Failed");

        // a disk of the name the VM's data disk was to have, made by someone else since
        f.emptyDisk("vm1_disk0");
        assertThat(f.await(f.vms.delete(f.admin, f.subscription, "rg", "vm1").orElseThrow()).status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        VmFixture.rejects(() -> f.vms.get(f.admin, f.subscription, "rg", "vm1", false), 404, "ResourceNotFound");
        assertThat(f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "vm1_disk0")
                .at("/properties/diskState").asText()).isEqualTo("Unattached");
    }

    /**
     * A create a crash interrupted that cannot be planned again after the restart (its DES lost its key permissions
     * meanwhile) is undone as a failed create is: the disk it attached is detached and kept, the ones it made are
     * deleted with the guest state, the VM is gone and its operation says why: also a disk made just before the crash,
     * before the create noted it as made.
     */
    @ParameterizedTest(name = "last disk noted as made: {0}")
    @ValueSource(booleans = {true, false})
    void anInterruptedCreateThatCannotGoOnAfterTheRestartIsUndone(boolean noted) {
        f.emptyDisk("extra");
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0);
        ArrayNode dataDisks = (ArrayNode) body.at("/properties/storageProfile/dataDisks");
        dataDisks.addObject().put("lun", 0).put("createOption", "Attach").putObject("managedDisk")
                .put("id", f.diskId("extra"));
        dataDisks.addObject().put("lun", 1).put("createOption", "Empty").put("diskSizeGB", 1);
        // what the create had recorded when it had made its last disk, before attaching it
        AtomicReference<String> pending = new AtomicReference<>();
        JdbcVirtualMachines.afterDiskCreated = () -> pending.set(f.core.metadata().withHandle(h -> h.createQuery(
                "SELECT pending_request FROM compute_virtual_machines").mapTo(String.class).one()));
        try {
            f.create("vm1", body);
        } finally {
            JdbcVirtualMachines.afterDiskCreated = () -> { };
        }
        String osDisk = f.vms.find(f.vmId("vm1")).orElseThrow().disks().get(0).diskResourceId();
        String madeDataDisk = f.diskId("vm1_disk1");
        assertThat(f.vms.guestState(osDisk)).isPresent();
        // the state a crash at that point leaves, and the DES's permissions revoked while Coffre is down
        f.core.disks().setManagedBy(madeDataDisk, null);
        ObjectNode recorded = (ObjectNode) Json.parse(pending.get());
        if (!noted) {
            ((ArrayNode) recorded.get("made")).remove(recorded.get("made").size() - 1);
        }
        assertThat(recorded.get("made").toString().contains(madeDataDisk)).isEqualTo(noted);
        f.core.metadata().inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state ="
                + " 'Creating', power_state = 'STOPPED', pending_request = :p").bind("p", Json.write(recorded))
                .execute());
        String op = f.core.asyncOperations().start(f.vmId("vm1"), VirtualMachines.RESOURCE_TYPE + "/write").id();
        f.grant(f.core.diskEncryptionSets().get(f.admin, f.subscription, "rg", "des-cvm").at("/identity/principalId")
                .asText());
        f.close();
        f = new VmFixture(dir);

        AsyncOperations.Operation failed = f.await(op);
        assertThat(failed.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(failed.errorMessage()).contains("unwrapKey", "az keyvault set-policy");
        VmFixture.rejects(() -> f.vms.get(f.admin, f.subscription, "rg", "vm1", false), 404, "ResourceNotFound");
        assertThat(f.core.disks().facts(osDisk)).isEmpty();
        assertThat(f.core.disks().facts(madeDataDisk)).isEmpty();
        assertThat(f.vms.guestState(osDisk)).isEmpty();
        assertThat(f.core.disks().get(f.admin, Disks.Kind.DISK, f.subscription, "rg", "extra")
                .at("/properties/diskState").asText()).isEqualTo("Unattached");
    }

    @Test
    void aDeleteLeftUnresumableByAnEarlierVersionFailsTheVmWhichThenDeletes() {
        f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0));
        // what a crash mid-delete left before deletes recorded their caller
        String op = f.core.asyncOperations().start(f.vmId("vm1"), VirtualMachines.RESOURCE_TYPE + "/delete").id();
        f.core.metadata().inTransaction(h -> h.createUpdate("UPDATE compute_virtual_machines SET provisioning_state ="
                + " 'Deleting', pending_request = NULL").execute());
        f.close();
        f = new VmFixture(dir);
        AsyncOperations.Operation interrupted = f.await(op);
        assertThat(interrupted.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(interrupted.errorCode()).isEqualTo("OperationInterrupted");
        assertThat(interrupted.errorMessage()).contains("delete it");
        assertThat(f.vms.get(f.admin, f.subscription, "rg", "vm1", false).at("/properties/provisioningState")
                .asText()).isEqualTo("Failed");
        assertThat(f.await(f.vms.delete(f.admin, f.subscription, "rg", "vm1").orElseThrow()).status())
                .isEqualTo(AsyncOperations.Status.Succeeded);
        VmFixture.rejects(() -> f.vms.get(f.admin, f.subscription, "rg", "vm1", false), 404, "ResourceNotFound");
    }

    @Test
    void theOsProfilesSecretsAreNeitherStoredNorReturned() {
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0);
        ((ObjectNode) body.at("/properties/osProfile")).put("adminPassword", "Pa55word-of-the-guest")
                .put("customData", "Y3VzdG9tLWRhdGEtb2YtdGhlLWd1ZXN0");
        JsonNode created = f.create("vm1", body);
        assertThat(created.at("/properties/osProfile/adminUsername").asText()).isEqualTo("azureuser");
        assertThat(created.at("/properties/osProfile").has("adminPassword")).isFalse();
        assertThat(created.at("/properties/osProfile").has("customData")).isFalse();
        assertThat(f.storage().toString()).doesNotContain("Pa55word-of-the-guest", "Y3VzdG9tLWRhdGEtb2YtdGhlLWd1ZXN0");
    }

    @Test
    void createFailsCleanlyWithoutTheOrchestratorsReleasePermission() {
        f.grant(f.orchestrator.objectId(), "get");
        Map<String, List<String>> before = f.storage();
        VirtualMachines.Accepted accepted = f.vms.put(f.admin, f.subscription, "rg", "vm1",
                f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 1));
        assertThat(accepted.created()).isTrue();
        assertThat(accepted.resource().path("properties").path("provisioningState").asText()).isEqualTo("Creating");
        AsyncOperations.Operation op = f.await(accepted.operationId());
        assertThat(op.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(op.errorCode()).isEqualTo(KeyRelease.FORBIDDEN);
        assertThat(op.errorMessage()).contains("Confidential VM Orchestrator", "release", "kv-cvm",
                "access policy");
        VmFixture.rejects(() -> f.vms.get(f.admin, f.subscription, "rg", "vm1", false), 404, "ResourceNotFound");
        assertThat(f.storage()).as("nothing of the failed create is left").isEqualTo(before);
    }

    @Test
    void startFailsAndTheVmStaysStoppedWhenTheReleaseIsRefused() {
        f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", des, 0));
        f.act("vm1", Action.DEALLOCATE);
        f.grant(f.orchestrator.objectId());
        AsyncOperations.Operation op = f.act("vm1", Action.START);
        assertThat(op.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(op.errorCode()).isEqualTo(KeyRelease.FORBIDDEN);
        assertThat(power("vm1")).isEqualTo("PowerState/deallocated");
        f.grant(f.orchestrator.objectId(), "get", "release");
        assertThat(f.act("vm1", Action.START).status()).isEqualTo(AsyncOperations.Status.Succeeded);
        assertThat(power("vm1")).isEqualTo("PowerState/running");
    }

    @Test
    void releasePolicyTheVmDoesNotSatisfyFailsTheCreate() {
        // a policy for Intel TDX VMs only: an AMD SEV-SNP VM's token does not satisfy it
        String tdxOnly = "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\""
                + f.core.endpoints().attestationIssuer() + "/\",\"allOf\":[{\"claim\":\"x-ms-attestation-type\","
                + "\"equals\":\"tdxvm\"}]}]}";
        String tdxDes = f.cvmDes("des-tdx", "tdx-key", tdxOnly.getBytes(StandardCharsets.UTF_8));
        Map<String, List<String>> before = f.storage();
        VirtualMachines.Accepted accepted = f.vms.put(f.admin, f.subscription, "rg", "amd",
                f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", tdxDes, 0));
        AsyncOperations.Operation op = f.await(accepted.operationId());
        assertThat(op.status()).isEqualTo(AsyncOperations.Status.Failed);
        assertThat(op.errorCode()).isEqualTo(KeyRelease.POLICY_NOT_SATISFIED);
        assertThat(op.errorMessage()).contains("release policy", "tdx-key");
        assertThat(f.storage()).isEqualTo(before);
        // the same DES works for a TDX size
        f.create("intel", f.cvmBody("Standard_DC2es_v6", "DiskWithVMGuestState", tdxDes, 0));
    }

    @Test
    void attachingAnAttachedDiskIsRefused() {
        f.create("vm1", f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 1));
        ObjectNode body = f.cvmBody(AMD_SIZE, "DiskWithVMGuestState", null, 0);
        ObjectNode data = ((com.fasterxml.jackson.databind.node.ArrayNode) body.path("properties")
                .path("storageProfile").path("dataDisks")).addObject().put("lun", 0).put("createOption", "Attach");
        data.putObject("managedDisk").put("id", f.diskId("vm1_disk0"));
        var e = f.rejectsWithoutWriting(() -> f.vms.put(f.admin, f.subscription, "rg", "vm2", body), 409,
                "OperationNotAllowed");
        assertThat(e.getMessage()).contains("Attached", f.vmId("vm1"));
    }

    private String power(String vm) {
        List<String> statuses = statuses(f.vms.instanceView(f.admin, f.subscription, "rg", vm));
        return statuses.stream().filter(s -> s.startsWith("PowerState/")).findFirst().orElseThrow();
    }

    private static List<String> statuses(JsonNode view) {
        return java.util.stream.StreamSupport.stream(view.path("statuses").spliterator(), false)
                .map(s -> s.path("code").asText()).toList();
    }

    private long releasesBy(String objectId) {
        return f.core.audit().list(f.core.endpoints().vaultUri("kv-cvm") + "/keys", 1000).stream()
                .filter(e -> e.operation().equals("KeyRelease") && e.allowed() && objectId.equals(e.principalId()))
                .count();
    }
}
