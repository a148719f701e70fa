package io.coffre.cli;

import static io.coffre.cli.QuickstartSteps.GROUP;
import static io.coffre.cli.QuickstartSteps.HSM;
import static io.coffre.cli.QuickstartSteps.KEY;
import static io.coffre.cli.QuickstartSteps.LOCATION;
import static io.coffre.cli.Walkthrough.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.compute.nbd.NbdClient;
import io.coffre.identity.Directory;
import io.coffre.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The platform part of {@code coffre quickstart}, after the key-service part has made managed HSM {@value
 * QuickstartSteps#HSM} and its key: a confidential DES on that key, a v6 confidential VM, guest writes through NBD,
 * a restore point, a key rotation with the old version disabled, and disks restored from the restore point compared
 * by SHA-256 with what the guest had written.
 */
final class PlatformQuickstartSteps {
    static final String DES = "des-quickstart";
    static final String VM = "vm-quickstart";
    static final String VM_SIZE = "Standard_DC2as_v6";
    static final String COLLECTION = "rpc-quickstart";
    static final String RESTORE_POINT = "rp1";
    private static final String CONFIDENTIAL_DES = "ConfidentialVmEncryptedWithCustomerKey";
    /** Spans the first two 4 MiB blocks of each disk. */
    private static final int GUEST_BYTES = 6 << 20;
    private static final long GUEST_OFFSET = 1 << 20;
    private static final List<String> DISKS = List.of("os", "0");

    private final Session session;
    private final SecureRandom random = new SecureRandom();
    private String desPrincipal;
    private String oldKeyVersion;
    /** SHA-256 of what the guest wrote to each disk before the restore point ("os", "0"). */
    private final Map<String, String> atRestorePoint = new LinkedHashMap<>();
    private final Map<String, String> afterRestorePoint = new LinkedHashMap<>();
    private JsonNode restorePoint;

    private PlatformQuickstartSteps(Session session) {
        this.session = session;
    }

    static Walkthrough addTo(Walkthrough walkthrough, Session session) {
        PlatformQuickstartSteps s = new PlatformQuickstartSteps(session);
        return walkthrough
                .step("turn on purge protection for " + HSM + " (a confidential DES requires it)",
                        s::enablePurgeProtection)
                .step("create confidential disk encryption set " + DES + " on " + HSM + "/" + KEY, s::createDes)
                .step("grant the DES identity 'Managed HSM Crypto Service Encryption User' on /keys/" + KEY,
                        s::grantDesIdentity)
                .step("let Confidential VM Orchestrator release " + KEY
                        + " ('Managed HSM Crypto Service Release User')", s::grantOrchestrator)
                .step("check that " + LOCATION + " offers " + VM_SIZE + " (vm list-sizes)", s::checkSizeOffered)
                .step("create confidential VM " + VM + " (" + VM_SIZE + ", DiskWithVMGuestState, " + LOCATION
                        + ") with a 1 GiB data disk; its key is released to it", s::createVm)
                .step("write guest data to the OS disk and LUN 0 through NBD", s::writeGuestData)
                .step("take restore point " + RESTORE_POINT + " of " + VM, s::takeRestorePoint)
                .step("overwrite the guest data", s::overwriteGuestData)
                .step("rotate " + KEY + " and point the DES at the new version", s::rotateDesKey)
                .step("disable the previous key version", s::disableOldVersion)
                .step("restore disks from the restore point, compare SHA-256, read the OS disk's VM guest state",
                        s::restoreAndCompare)
                .step("stop and start " + VM + " (released again under the new version) and read it back",
                        s::restartVm)
                .step("attach the restored data disk to the running " + VM + " and read it over NBD",
                        s::attachRestoredDisk);
    }

    private KeyService hsm() {
        return session.managedHsm(HSM);
    }

    /** The key-service part purged a key, which purge protection forbids: it is turned on only now. */
    private String enablePurgeProtection() {
        Arm arm = session.arm();
        JsonNode hsm = arm.vault(Arm.VaultKind.MANAGED_HSM, GROUP, HSM).deepCopy();
        ((com.fasterxml.jackson.databind.node.ObjectNode) hsm.path("properties")).put("enablePurgeProtection", true);
        JsonNode updated = arm.putVault(Arm.VaultKind.MANAGED_HSM, GROUP, HSM, hsm);
        check(updated.path("properties").path("enablePurgeProtection").asBoolean(false),
                "the managed HSM came back without purge protection: " + updated);
        return "enablePurgeProtection true";
    }

    private String createDes() {
        String kid = hsm().get(KEY, null).path("key").path("kid").asText();
        oldKeyVersion = ResourceIds.lastSegment(kid);
        JsonNode des = session.arm().putDiskEncryptionSet(GROUP, DES,
                DiskEncryptionSetCommand.createBody(LOCATION, kid, null, CONFIDENTIAL_DES, false));
        desPrincipal = des.path("identity").path("principalId").asText();
        check(!desPrincipal.isEmpty(), "the DES came back without a system-assigned identity: " + des);
        return "identity " + desPrincipal;
    }

    private String grantDesIdentity() {
        session.hsmRoles(HSM).assign("/keys/" + KEY, "Managed HSM Crypto Service Encryption User", desPrincipal);
        return "get, wrapKey, unwrapKey";
    }

    private String grantOrchestrator() {
        String orchestrator = session.graph().servicePrincipal(Directory.CVM_ORCHESTRATOR_APP_ID).path("id").asText();
        check(!orchestrator.isEmpty(), "the directory has no Confidential VM Orchestrator principal");
        session.hsmRoles(HSM).assign("/keys/" + KEY, "Managed HSM Crypto Service Release User", orchestrator);
        return "principal " + orchestrator;
    }

    private String checkSizeOffered() {
        JsonNode sizes = session.arm().vmSizes(LOCATION);
        JsonNode size = null;
        for (JsonNode s : sizes) {
            size = s.path("name").asText().equals(VM_SIZE) ? s : size;
        }
        check(size != null, LOCATION + " does not offer " + VM_SIZE);
        return sizes.size() + " sizes; " + VM_SIZE + ": " + size.path("numberOfCores").asInt() + " cores, "
                + size.path("memoryInMB").asInt() / 1024 + " GiB";
    }

    private String createVm() {
        Arm arm = session.arm();
        String desId = arm.groupScope(GROUP) + "/providers/Microsoft.Compute/diskEncryptionSets/" + DES;
        arm.putVm(GROUP, VM, VmCommand.createBody(LOCATION, VM, VM_SIZE, "ConfidentialVM", "DiskWithVMGuestState",
                desId, 30, List.of(1), "Delete"));
        JsonNode vm = arm.vm(GROUP, VM);
        String power = VmCommand.powerState(vm);
        check(power.endsWith("running"), "the VM is '" + power + "' after create");
        return vm.path("properties").path("vmId").asText() + ", " + power;
    }

    private String writeGuestData() throws IOException {
        for (String disk : DISKS) {
            atRestorePoint.put(disk, writeRandom(disk));
        }
        return GUEST_BYTES / (1 << 20) + " MiB each, flushed";
    }

    private String takeRestorePoint() {
        Arm arm = session.arm();
        arm.putRestorePointCollection(GROUP, COLLECTION, Json.object().put("location", LOCATION)
                .set("properties", Json.object().set("source", Json.object().put("id", arm.vmId(GROUP, VM)))));
        arm.putRestorePoint(GROUP, COLLECTION, RESTORE_POINT, Json.object().set("properties", Json.object()));
        restorePoint = arm.restorePoint(GROUP, COLLECTION, RESTORE_POINT, false);
        String state = restorePoint.path("properties").path("provisioningState").asText();
        check(state.equals("Succeeded"), "the restore point is '" + state + "'");
        return restorePoint.path("properties").path("consistencyMode").asText() + ", "
                + diskRestorePoints().size() + " disk restore points";
    }

    private String overwriteGuestData() throws IOException {
        for (String disk : DISKS) {
            afterRestorePoint.put(disk, writeRandom(disk));
        }
        return "new random data on both disks";
    }

    private String rotateDesKey() {
        String kid = hsm().rotate(KEY).path("key").path("kid").asText();
        session.arm().patchDiskEncryptionSet(GROUP, DES, DiskEncryptionSetCommand.patchBody(kid, null, null));
        JsonNode des = session.arm().diskEncryptionSet(GROUP, DES);
        check(des.path("properties").path("activeKey").path("keyUrl").asText().equals(kid),
                "the DES still uses " + des.path("properties").path("activeKey").path("keyUrl").asText());
        String rotated = des.path("properties").path("lastKeyRotationTimestamp").asText();
        check(!rotated.isEmpty(), "the DES shows no lastKeyRotationTimestamp after the rotation");
        return "now " + ResourceIds.lastSegment(kid) + ", rotated at " + rotated;
    }

    private String disableOldVersion() {
        JsonNode updated = hsm().update(KEY, oldKeyVersion, Json.object().set("attributes",
                Json.object().put("enabled", false)));
        check(!updated.path("attributes").path("enabled").asBoolean(true), "version " + oldKeyVersion
                + " is still enabled");
        return "version " + oldKeyVersion + " disabled";
    }

    private String restoreAndCompare() {
        Arm arm = session.arm();
        DiskTransfer transfer = new DiskTransfer(session.http(), new Progress(session.err(), "read"));
        Map<String, String> sources = diskRestorePoints();
        check(sources.keySet().containsAll(DISKS), "the restore point has disk restore points for "
                + sources.keySet() + ", not for " + DISKS);
        StringBuilder details = new StringBuilder();
        for (String disk : DISKS) {
            String name = VM + "-restored-" + (disk.equals("os") ? "os" : "lun" + disk);
            arm.putDisk(Arm.DiskKind.DISK, GROUP, name, Json.object().put("location", LOCATION).set("properties",
                    Json.object().set("creationData", Json.object().put("createOption", "Restore")
                            .put("sourceResourceId", sources.get(disk)))));
            boolean os = disk.equals("os");
            Arm.AccessUri access = arm.grantAccess(Arm.DiskKind.DISK, GROUP, name, "Read", 3600, os);
            String restored = sha256(transfer.readRange(access.accessSas(), GUEST_OFFSET, GUEST_BYTES));
            // the restored OS disk brings the VM guest state frozen with it (getSecureVMGuestStateSAS)
            String guestState = os ? new String(transfer.readRange(access.securityDataAccessSas(), 0, 512),
                    StandardCharsets.US_ASCII) : null;
            arm.revokeAccess(Arm.DiskKind.DISK, GROUP, name);
            check(restored.equals(atRestorePoint.get(disk)), "disk " + name + " reads back SHA-256 " + restored
                    + ", the guest had written " + atRestorePoint.get(disk));
            if (os) {
                String vmId = restorePoint.path("properties").path("sourceMetadata").path("vmId").asText();
                check(guestState.startsWith("COFFRE-VMGS 1 vm=" + vmId + " "), "the guest state of " + name
                        + " is not the one of VM " + vmId + ": " + guestState.lines().findFirst().orElse(""));
            }
            details.append(details.length() == 0 ? "" : ", ").append(name).append(' ').append(restored, 0, 12);
        }
        return details.append("; the OS disk's VM guest state came back too").toString();
    }

    private String restartVm() throws IOException {
        Arm arm = session.arm();
        arm.vmAction(GROUP, VM, "powerOff");
        String power = VmCommand.powerState(arm.vmAction(GROUP, VM, "start"));
        check(power.endsWith("running"), "the VM is '" + power + "' after start");
        for (String disk : DISKS) {
            String now = sha256(readGuest(disk));
            check(now.equals(afterRestorePoint.get(disk)), "disk " + disk + " of the restarted VM reads back "
                    + now + ", the guest had written " + afterRestorePoint.get(disk));
        }
        return power + ", guest data intact";
    }

    /** As az vm disk attach: the guest sees the restore point's data at a new LUN, next to its own disk. */
    private String attachRestoredDisk() throws IOException {
        String disk = VM + "-restored-lun0";
        JsonNode vm = VmCommand.DiskData.attachDisk(session.arm(), GROUP, VM, disk, null, null);
        boolean listed = false;
        for (JsonNode data : vm.path("properties").path("storageProfile").path("dataDisks")) {
            listed |= data.path("name").asText().equals(disk) && data.path("lun").asInt() == 1;
        }
        check(listed, "the VM does not list " + disk + " at LUN 1");
        String read = sha256(readGuest("1"));
        check(read.equals(atRestorePoint.get("0")), "LUN 1 reads back SHA-256 " + read + ", the restore point "
                + "held " + atRestorePoint.get("0"));
        check(sha256(readGuest("0")).equals(afterRestorePoint.get("0")), "LUN 0 changed when LUN 1 was attached");
        return disk + " at LUN 1 reads " + read.substring(0, 12) + " as at the restore point; LUN 0 unchanged";
    }

    /** Disk restore point ids by disk: "os" and the data disks' LUNs. */
    private Map<String, String> diskRestorePoints() {
        JsonNode storage = restorePoint.path("properties").path("sourceMetadata").path("storageProfile");
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("os", storage.path("osDisk").path("diskRestorePoint").path("id").asText());
        for (JsonNode data : storage.path("dataDisks")) {
            ids.put(data.path("lun").asText(), data.path("diskRestorePoint").path("id").asText());
        }
        return ids;
    }

    private String writeRandom(String disk) throws IOException {
        byte[] data = new byte[GUEST_BYTES];
        random.nextBytes(data);
        try (NbdClient nbd = connect(disk)) {
            nbd.write(GUEST_OFFSET, data, 0, data.length, false);
            nbd.flush();
        }
        return sha256(data);
    }

    private byte[] readGuest(String disk) throws IOException {
        byte[] data = new byte[GUEST_BYTES];
        try (NbdClient nbd = connect(disk)) {
            nbd.read(GUEST_OFFSET, data, 0, data.length);
        }
        return data;
    }

    private NbdClient connect(String disk) {
        return VmCommand.DiskData.connect(session, VmCommand.DiskData.export(GROUP, VM, disk));
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
