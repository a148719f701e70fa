// Drives Coffre's disk encryption sets, disks and snapshots with the official @azure/arm-compute client: the
// client's own LRO pollers, plain HTTPS page writes and reads on the access URLs, a key rotation under a restored
// disk. Run by ArmComputeJsTest, which checks the one JSON line this prints on stdout.
import {
  armError, client, download, env, flow, grantVaultAccess, image, location, names, rg, run, sha256, uploadPages,
  vaultId,
} from "./coffre.mjs";

const keyUrl = env("COFFRE_KEY_URL");
const rotatedKeyUrl = env("COFFRE_ROTATED_KEY_URL");
const data = image(env("COFFRE_DATA_SEED"), Number(env("COFFRE_IMAGE_BYTES")));

run("compute-flow", async () => {
  const { result, step } = flow("compute-flow");
  result.imageSha256 = sha256(data);
  const cvmProfile = (desId) => ({
    securityType: "ConfidentialVM_DiskEncryptedWithCustomerKey", secureVMDiskEncryptionSetId: desId });

  step("diskEncryptionSets.beginCreateOrUpdateAndWait");
  const created = await client.diskEncryptionSets.beginCreateOrUpdateAndWait(rg, "des-cvm", {
    location,
    identity: { type: "SystemAssigned" },
    encryptionType: "ConfidentialVmEncryptedWithCustomerKey",
    activeKey: { keyUrl, sourceVault: { id: vaultId } },
    rotationToLatestKeyVersionEnabled: false,
  });
  step("diskEncryptionSets.get");
  const des = await client.diskEncryptionSets.get(rg, "des-cvm");
  result.des = { id: des.id, principalId: des.identity?.principalId, tenantId: des.identity?.tenantId,
    keyUrl: des.activeKey?.keyUrl, encryptionType: des.encryptionType,
    provisioningState: des.provisioningState, createdMatches: created.id === des.id };

  step("grant the DES identity on the vault (REST)");
  await grantVaultAccess(des.identity.principalId, des.identity.tenantId, ["get", "wrapKey", "unwrapKey"]);

  step("disks.beginCreateOrUpdateAndWait Empty");
  const empty = await client.disks.beginCreateOrUpdateAndWait(rg, "empty-cvm", {
    location, sku: { name: "Premium_LRS" }, diskSizeGB: 4, osType: "Linux", hyperVGeneration: "V2",
    creationData: { createOption: "Empty" }, securityProfile: cvmProfile(des.id),
  });
  result.emptyDisk = { diskSizeGB: empty.diskSizeGB, diskState: empty.diskState,
    securityType: empty.securityProfile?.securityType, provisioningState: empty.provisioningState };

  step("disks.beginCreateOrUpdateAndWait Upload");
  const upload = await client.disks.beginCreateOrUpdateAndWait(rg, "upload-cvm", {
    location, sku: { name: "Premium_LRS" }, osType: "Linux", hyperVGeneration: "V2",
    creationData: { createOption: "Upload", uploadSizeBytes: data.length }, securityProfile: cvmProfile(des.id),
  });
  step("disks.beginGrantAccessAndWait Write");
  const write = await client.disks.beginGrantAccessAndWait(rg, "upload-cvm",
    { access: "Write", durationInSeconds: 3600 });
  result.uploadState = (await client.disks.get(rg, "upload-cvm")).diskState;
  step("page writes to the access URL");
  result.pageWrites = await uploadPages(write.accessSAS, data);
  step("disks.beginRevokeAccessAndWait");
  await client.disks.beginRevokeAccessAndWait(rg, "upload-cvm");
  result.afterUploadState = (await client.disks.get(rg, "upload-cvm")).diskState;

  step("snapshots.beginCreateOrUpdateAndWait Copy incremental");
  const snapshot = await client.snapshots.beginCreateOrUpdateAndWait(rg, "snap-cvm", {
    location, incremental: true, creationData: { createOption: "Copy", sourceResourceId: upload.id },
  });
  result.snapshot = { incremental: snapshot.incremental, provisioningState: snapshot.provisioningState };
  step("snapshots.beginGrantAccessAndWait Read");
  const read = await client.snapshots.beginGrantAccessAndWait(rg, "snap-cvm",
    { access: "Read", durationInSeconds: 600 });
  result.snapshotSha256 = sha256(await download(read.accessSAS));
  step("snapshots.beginRevokeAccessAndWait");
  await client.snapshots.beginRevokeAccessAndWait(rg, "snap-cvm");

  step("disks.beginCreateOrUpdateAndWait Restore");
  const restored = await client.disks.beginCreateOrUpdateAndWait(rg, "restored-cvm", {
    location, sku: { name: "Premium_LRS" }, creationData: { createOption: "Restore", sourceResourceId: snapshot.id },
    securityProfile: cvmProfile(des.id),
  });
  result.restoredDisk = { diskSizeBytes: restored.diskSizeBytes, diskState: restored.diskState,
    timeCreated: restored.timeCreated?.toISOString(), sourceResourceId: restored.creationData?.sourceResourceId };

  step("disks.beginUpdateAndWait (tags)");
  const tagged = await client.disks.beginUpdateAndWait(rg, "restored-cvm", { tags: { purpose: "restore-test" } });
  result.tags = { updated: tagged.tags, read: (await client.disks.get(rg, "restored-cvm")).tags };

  step("disks.listByResourceGroup, snapshots.listByResourceGroup, disks.list, diskEncryptionSets.list");
  result.disks = await names(client.disks.listByResourceGroup(rg));
  result.snapshots = await names(client.snapshots.listByResourceGroup(rg));
  result.subscriptionDisks = await names(client.disks.list());
  result.subscriptionDes = await names(client.diskEncryptionSets.list());
  step("diskEncryptionSets.listAssociatedResources");
  const associated = [];
  for await (const id of client.diskEncryptionSets.listAssociatedResources(rg, "des-cvm")) {
    associated.push(id.split("/").pop());
  }
  result.associated = associated.sort();

  step("diskEncryptionSets.beginUpdateAndWait (rotation to a new key version)");
  const updated = await client.diskEncryptionSets.beginUpdateAndWait(rg, "des-cvm",
    { activeKey: { keyUrl: rotatedKeyUrl, sourceVault: { id: vaultId } } });
  const rotated = await client.diskEncryptionSets.get(rg, "des-cvm");
  result.rotation = { updateKeyUrl: updated?.activeKey?.keyUrl, keyUrl: rotated.activeKey?.keyUrl,
    previousKeys: (rotated.previousKeys ?? []).map((k) => k.keyUrl),
    lastKeyRotationTimestamp: rotated.lastKeyRotationTimestamp?.toISOString() };

  step("disks.beginGrantAccessAndWait Read after the rotation");
  const afterRotation = await client.disks.beginGrantAccessAndWait(rg, "restored-cvm",
    { access: "Read", durationInSeconds: 600 });
  result.restoredSha256 = sha256(await download(afterRotation.accessSAS));
  await client.disks.beginRevokeAccessAndWait(rg, "restored-cvm");

  step("errors: disks.get of a missing disk, disks create without diskSizeGB, delete of a DES in use");
  result.notFound = await armError(() => client.disks.get(rg, "no-such-disk"));
  result.badRequest = await armError(() => client.disks.beginCreateOrUpdateAndWait(rg, "bad", {
    location, creationData: { createOption: "Empty" } }));
  result.desInUse = await armError(() => client.diskEncryptionSets.beginDeleteAndWait(rg, "des-cvm"));

  step("deletes: disks, snapshot, disk encryption set");
  for (const disk of ["restored-cvm", "upload-cvm", "empty-cvm"]) {
    await client.disks.beginDeleteAndWait(rg, disk);
  }
  await client.snapshots.beginDeleteAndWait(rg, "snap-cvm");
  await client.diskEncryptionSets.beginDeleteAndWait(rg, "des-cvm");
  result.disksAfterDelete = await names(client.disks.listByResourceGroup(rg));
  result.desAfterDelete = await names(client.diskEncryptionSets.listByResourceGroup(rg));
  result.goneDes = await armError(() => client.diskEncryptionSets.get(rg, "des-cvm"));
  return result;
});
