// Drives Coffre's confidential virtual machines and restore points with the official @azure/arm-compute client: a
// CMK confidential VM over an uploaded customer-key data disk, power off / start, a restore point, a key rotation of
// the data disk's DES, the data disk read back from its disk restore point and restored into a new disk, an OS disk
// uploaded with that VM guest state (UploadPreparedSecure) and a VM run from it, VM delete.
// Run by ArmComputeJsTest, which checks the one JSON line this prints on stdout.
import {
  armError, client, download, env, flow, grantVaultAccess, image, location, names, rest, rg, run, sha256,
  uploadPages, vaultId,
} from "./coffre.mjs";

const CVM_ORCHESTRATOR_APP_ID = "bf7b6499-ff71-4aa2-97a4-f372087be7f0";
const keyUrl = env("COFFRE_KEY_URL");
const rotatedKeyUrl = env("COFFRE_ROTATED_KEY_URL");
const vmSize = env("COFFRE_VM_SIZE");
const data = image(env("COFFRE_DATA_SEED"), Number(env("COFFRE_IMAGE_BYTES")));

const powerState = (vm) => vm.instanceView?.statuses?.find((s) => s.code?.startsWith("PowerState/"))?.code;

run("vm-flow", async () => {
  const { result, step } = flow("vm-flow");
  result.imageSha256 = sha256(data);

  step("diskEncryptionSets.beginCreateOrUpdateAndWait");
  const des = await client.diskEncryptionSets.beginCreateOrUpdateAndWait(rg, "des-vm", {
    location, identity: { type: "SystemAssigned" }, encryptionType: "ConfidentialVmEncryptedWithCustomerKey",
    activeKey: { keyUrl, sourceVault: { id: vaultId } },
  });
  step("grant the DES identity and the Confidential VM Orchestrator on the vault (Graph + Key Vault REST)");
  await grantVaultAccess(des.identity.principalId, des.identity.tenantId, ["get", "wrapKey", "unwrapKey"]);
  const filter = encodeURIComponent(`appId eq '${CVM_ORCHESTRATOR_APP_ID}'`);
  const orchestrator = (await rest("GET", `/v1.0/servicePrincipals?$filter=${filter}`)).value[0];
  await grantVaultAccess(orchestrator.id, des.identity.tenantId, ["get", "release"]);
  step("diskEncryptionSets.beginCreateOrUpdateAndWait for data disks (EncryptionAtRestWithCustomerKey) + grant");
  const dataDes = await client.diskEncryptionSets.beginCreateOrUpdateAndWait(rg, "des-data", {
    location, identity: { type: "SystemAssigned" }, encryptionType: "EncryptionAtRestWithCustomerKey",
    activeKey: { keyUrl, sourceVault: { id: vaultId } },
  });
  await grantVaultAccess(dataDes.identity.principalId, dataDes.identity.tenantId, ["get", "wrapKey", "unwrapKey"]);

  step("disks.beginCreateOrUpdateAndWait Upload + grant Write + page writes + revoke");
  const dataDisk = await client.disks.beginCreateOrUpdateAndWait(rg, "vm-data", {
    location, sku: { name: "Premium_LRS" }, creationData: { createOption: "Upload", uploadSizeBytes: data.length },
    encryption: { type: "EncryptionAtRestWithCustomerKey", diskEncryptionSetId: dataDes.id },
  });
  const write = await client.disks.beginGrantAccessAndWait(rg, "vm-data", { access: "Write", durationInSeconds: 600 });
  await uploadPages(write.accessSAS, data);
  await client.disks.beginRevokeAccessAndWait(rg, "vm-data");

  step("virtualMachineSizes.list + resourceSkus.list (what az vm list-sizes / list-skus read)");
  const sizes = [];
  for await (const size of client.virtualMachineSizes.list(location)) sizes.push(size);
  const size = sizes.find((s) => s.name === vmSize);
  const skus = [];
  for await (const sku of client.resourceSkus.list({ filter: `location eq '${location}'` })) skus.push(sku);
  const sku = skus.find((s) => s.name === vmSize);
  result.vmSize = {
    listed: sizes.length, numberOfCores: size?.numberOfCores, memoryInMB: size?.memoryInMB,
    skus: skus.length, skuLocations: sku?.locations, skuFamily: sku?.family,
    confidentialComputingType: sku?.capabilities?.find((c) => c.name === "ConfidentialComputingType")?.value,
  };

  step("virtualMachines.beginCreateOrUpdateAndWait ConfidentialVM");
  const created = await client.virtualMachines.beginCreateOrUpdateAndWait(rg, "cvm1", {
    location,
    hardwareProfile: { vmSize },
    securityProfile: { securityType: "ConfidentialVM", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
    storageProfile: {
      osDisk: {
        name: "cvm1-os", createOption: "FromImage", deleteOption: "Delete", diskSizeGB: 2, caching: "ReadOnly",
        managedDisk: { storageAccountType: "Premium_LRS", securityProfile: {
          securityEncryptionType: "DiskWithVMGuestState", diskEncryptionSet: { id: des.id } } },
      },
      dataDisks: [{ lun: 0, createOption: "Attach", deleteOption: "Detach", managedDisk: { id: dataDisk.id } }],
    },
    osProfile: { computerName: "cvm1", adminUsername: "azureuser" },
  });
  result.vm = { id: created.id, vmId: created.vmId, provisioningState: created.provisioningState,
    securityType: created.securityProfile?.securityType,
    osDiskId: created.storageProfile?.osDisk?.managedDisk?.id,
    osDiskEncryption: created.storageProfile?.osDisk?.managedDisk?.securityProfile?.securityEncryptionType,
    dataDiskId: created.storageProfile?.dataDisks?.[0]?.managedDisk?.id };

  step("virtualMachines.get expand instanceView");
  result.powerAfterCreate = powerState(await client.virtualMachines.get(rg, "cvm1", { expand: "instanceView" }));
  const osDisk = await client.disks.get(rg, "cvm1-os");
  result.osDisk = { diskState: osDisk.diskState, managedBy: osDisk.managedBy,
    securityType: osDisk.securityProfile?.securityType };

  step("virtualMachines.beginPowerOffAndWait");
  await client.virtualMachines.beginPowerOffAndWait(rg, "cvm1");
  result.powerAfterPowerOff = powerState(await client.virtualMachines.instanceView(rg, "cvm1")
    .then((instanceView) => ({ instanceView })));
  step("virtualMachines.listAvailableSizes + beginUpdateAndWait (resize while stopped)");
  const resizeOptions = [];
  for await (const option of client.virtualMachines.listAvailableSizes(rg, "cvm1")) resizeOptions.push(option.name);
  const resized = await client.virtualMachines.beginUpdateAndWait(rg, "cvm1",
    { hardwareProfile: { vmSize: "Standard_DC4as_v6" } });
  result.resize = { options: resizeOptions, size: resized.hardwareProfile?.vmSize };
  step("virtualMachines.beginStartAndWait");
  await client.virtualMachines.beginStartAndWait(rg, "cvm1");
  result.powerAfterStart = powerState(await client.virtualMachines.get(rg, "cvm1", { expand: "instanceView" }));
  step("virtualMachines.list");
  result.vms = await names(client.virtualMachines.list(rg));

  step("restorePointCollections.createOrUpdate");
  const collection = await client.restorePointCollections.createOrUpdate(rg, "rpc1",
    { location, source: { id: created.id } });
  result.collection = { sourceId: collection.source?.id, provisioningState: collection.provisioningState };
  step("restorePoints.beginCreateAndWait");
  const point = await client.restorePoints.beginCreateAndWait(rg, "rpc1", "rp1", {});
  result.restorePoint = { provisioningState: point.provisioningState, consistencyMode: point.consistencyMode,
    vmId: point.sourceMetadata?.vmId, securityType: point.sourceMetadata?.securityProfile?.securityType,
    osDiskEncryptionSet: point.sourceMetadata?.storageProfile?.osDisk?.diskRestorePoint?.encryption
      ?.diskEncryptionSet?.id };
  step("restorePoints.get expand instanceView, restorePointCollections.get expand restorePoints");
  const withView = await client.restorePoints.get(rg, "rpc1", "rp1", { expand: "instanceView" });
  result.diskRestorePointViews = withView.instanceView?.diskRestorePoints?.length;
  const expanded = await client.restorePointCollections.get(rg, "rpc1", { expand: "restorePoints" });
  result.collectionPoints = (expanded.restorePoints ?? []).map((p) => p.name);

  step("diskEncryptionSets.beginUpdateAndWait of the data disks' DES (rotation: reaches the restore point's copy)");
  const rotated = await client.diskEncryptionSets.beginUpdateAndWait(rg, "des-data",
    { activeKey: { keyUrl: rotatedKeyUrl, sourceVault: { id: vaultId } } });
  result.rotatedKeyUrl = rotated.activeKey?.keyUrl;

  step("diskRestorePoint.listByRestorePoint");
  const diskPoints = [];
  for await (const p of client.diskRestorePoint.listByRestorePoint(rg, "rpc1", "rp1")) {
    diskPoints.push(p);
  }
  result.diskPoints = diskPoints.length;
  const dataPoint = diskPoints.find((p) => p.sourceResourceId?.toLowerCase() === dataDisk.id.toLowerCase());
  step("diskRestorePoint.beginGrantAccessAndWait Read + download + revoke");
  const pointRead = await client.diskRestorePoint.beginGrantAccessAndWait(rg, "rpc1", "rp1", dataPoint.name,
    { access: "Read", durationInSeconds: 600 });
  result.diskRestorePointSha256 = sha256(await download(pointRead.accessSAS));
  await client.diskRestorePoint.beginRevokeAccessAndWait(rg, "rpc1", "rp1", dataPoint.name);
  step("diskRestorePoint.beginGrantAccessAndWait getSecureVMGuestStateSAS on the OS disk's point + download VMGS");
  const osPoint = diskPoints.find((p) => p.sourceResourceId?.toLowerCase() === result.vm.osDiskId.toLowerCase());
  const osRead = await client.diskRestorePoint.beginGrantAccessAndWait(rg, "rpc1", "rp1", osPoint.name,
    { access: "Read", durationInSeconds: 600, getSecureVMGuestStateSAS: true });
  const guestState = await download(osRead.securityDataAccessSAS);
  result.guestState = { distinctUrl: osRead.securityDataAccessSAS !== osRead.accessSAS,
    magic: guestState.subarray(0, 11).toString("ascii") };
  await client.diskRestorePoint.beginRevokeAccessAndWait(rg, "rpc1", "rp1", osPoint.name);
  result.guestState.afterRevoke = (await fetch(osRead.securityDataAccessSAS)).status;

  step("disks.beginCreateOrUpdateAndWait UploadPreparedSecure + grant Write + upload the disk and its VM guest state");
  const secureDisk = await client.disks.beginCreateOrUpdateAndWait(rg, "cvm-up-os", {
    location, sku: { name: "Premium_LRS" },
    creationData: { createOption: "UploadPreparedSecure", uploadSizeBytes: data.length },
    securityProfile: { securityType: "ConfidentialVM_DiskEncryptedWithCustomerKey", secureVMDiskEncryptionSetId: des.id },
  });
  const secureWrite = await client.disks.beginGrantAccessAndWait(rg, "cvm-up-os",
    { access: "Write", durationInSeconds: 600 });
  await uploadPages(secureWrite.accessSAS, data);
  await uploadPages(secureWrite.securityDataAccessSAS, guestState);
  await client.disks.beginRevokeAccessAndWait(rg, "cvm-up-os");
  step("virtualMachines.beginCreateOrUpdateAndWait attaching the uploaded OS disk, then beginDeleteAndWait");
  const fromUpload = await client.virtualMachines.beginCreateOrUpdateAndWait(rg, "cvm-up", {
    location,
    hardwareProfile: { vmSize },
    securityProfile: { securityType: "ConfidentialVM", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
    storageProfile: { osDisk: { createOption: "Attach", osType: "Linux", managedDisk: { id: secureDisk.id,
      securityProfile: { securityEncryptionType: "DiskWithVMGuestState", diskEncryptionSet: { id: des.id } } } } },
  });
  await client.virtualMachines.beginDeleteAndWait(rg, "cvm-up");
  const secureRead = await client.disks.beginGrantAccessAndWait(rg, "cvm-up-os",
    { access: "Read", durationInSeconds: 600, getSecureVMGuestStateSAS: true });
  result.secureUpload = { createOption: secureDisk.creationData?.createOption,
    securityType: secureDisk.securityProfile?.securityType, vmProvisioningState: fromUpload.provisioningState,
    diskSha256: sha256(await download(secureRead.accessSAS)),
    sameGuestState: sha256(await download(secureRead.securityDataAccessSAS)) === sha256(guestState) };
  await client.disks.beginRevokeAccessAndWait(rg, "cvm-up-os");

  step("disks.beginCreateOrUpdateAndWait Restore from the disk restore point + read");
  const restored = await client.disks.beginCreateOrUpdateAndWait(rg, "vm-data-restored", {
    location, sku: { name: "Premium_LRS" }, creationData: { createOption: "Restore", sourceResourceId: dataPoint.id },
  });
  result.restoredSource = restored.creationData?.sourceResourceId;
  const restoredRead = await client.disks.beginGrantAccessAndWait(rg, "vm-data-restored",
    { access: "Read", durationInSeconds: 600 });
  result.restoredSha256 = sha256(await download(restoredRead.accessSAS));
  await client.disks.beginRevokeAccessAndWait(rg, "vm-data-restored");

  step("virtualMachines.beginCreateOrUpdateAndWait attaching a data disk (as az vm disk attach), "
    + "then beginUpdateAndWait (PATCH) detaching it");
  const current = await client.virtualMachines.get(rg, "cvm1");
  current.storageProfile.dataDisks.push({ lun: 1, createOption: "Attach", managedDisk: { id: restored.id } });
  const attached = await client.virtualMachines.beginCreateOrUpdateAndWait(rg, "cvm1", current);
  result.attach = { luns: attached.storageProfile.dataDisks.map((d) => d.lun),
    provisioningState: attached.provisioningState,
    restoredManagedBy: (await client.disks.get(rg, "vm-data-restored")).managedBy };
  const detached = await client.virtualMachines.beginUpdateAndWait(rg, "cvm1",
    { storageProfile: { dataDisks: attached.storageProfile.dataDisks.filter((d) => d.lun !== 1) } });
  result.detach = { luns: detached.storageProfile.dataDisks.map((d) => d.lun),
    restoredState: (await client.disks.get(rg, "vm-data-restored")).diskState };

  step("errors: write access to an attached disk, a crash-consistent restore point, a size without confidential VMs");
  result.attachedGrant = await armError(() => client.disks.beginGrantAccessAndWait(rg, "vm-data",
    { access: "Write", durationInSeconds: 60 }));
  result.crashConsistent = await armError(() => client.restorePoints.beginCreateAndWait(rg, "rpc1", "rp-crash",
    { consistencyMode: "CrashConsistent" }));
  result.notConfidentialSize = await armError(() => client.virtualMachines.beginCreateOrUpdateAndWait(rg, "cvm2", {
    location, hardwareProfile: { vmSize: "Standard_D2s_v5" },
    securityProfile: { securityType: "ConfidentialVM", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
    storageProfile: { osDisk: { createOption: "FromImage", managedDisk: { securityProfile: {
      securityEncryptionType: "DiskWithVMGuestState", diskEncryptionSet: { id: des.id } } } } },
  }));

  step("virtualMachines.beginDeleteAndWait");
  await client.virtualMachines.beginDeleteAndWait(rg, "cvm1");
  result.goneVm = await armError(() => client.virtualMachines.get(rg, "cvm1"));
  result.disksAfterVmDelete = await names(client.disks.listByResourceGroup(rg));
  result.dataDiskState = (await client.disks.get(rg, "vm-data")).diskState;
  return result;
});
