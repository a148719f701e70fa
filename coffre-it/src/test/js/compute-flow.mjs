// Drives Coffre's Microsoft.Compute API with the official @azure/arm-compute client, as an application would use
// it against Azure: ClientSecretCredential signing in at Coffre's authority, the client's own LRO pollers, plain
// HTTPS page writes and reads on the access URLs. Run by ArmComputeJsTest, which passes everything by environment
// and checks the one JSON line this prints on stdout. Progress goes to stderr.
import { createHash } from "node:crypto";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ClientSecretCredential } from "@azure/identity";

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
};

const endpoint = env("COFFRE_ENDPOINT");
const subscriptionId = env("COFFRE_SUBSCRIPTION_ID");
const scope = env("COFFRE_MANAGEMENT_SCOPE");
const rg = env("COFFRE_RESOURCE_GROUP");
const location = env("COFFRE_LOCATION");
const vaultId = env("COFFRE_VAULT_ID");
const keyUrl = env("COFFRE_KEY_URL");
const rotatedKeyUrl = env("COFFRE_ROTATED_KEY_URL");
const seed = env("COFFRE_DATA_SEED");
const imageBytes = Number(env("COFFRE_IMAGE_BYTES"));

const MIB = 1024 * 1024;
const started = Date.now();
const log = (message) => process.stderr.write(`[compute-flow +${Date.now() - started} ms] ${message}\n`);

const credential = new ClientSecretCredential(env("COFFRE_TENANT_ID"), env("COFFRE_CLIENT_ID"),
  env("COFFRE_CLIENT_SECRET"), { authorityHost: env("COFFRE_AUTHORITY_HOST"), disableInstanceDiscovery: true });
// No retries: a wire mismatch must fail at once, not be retried away.
const client = new ComputeManagementClient(credential, subscriptionId,
  { endpoint, credentials: { scopes: [scope] }, retryOptions: { maxRetries: 0 } });

/** The disk image: SHA-256 of "seed:i" for the i-th 32 bytes, so the Java side can compute it too. */
function image() {
  const data = Buffer.alloc(imageBytes);
  for (let offset = 0, i = 0; offset < imageBytes; offset += 32, i++) {
    createHash("sha256").update(`${seed}:${i}`).digest().copy(data, offset);
  }
  return data;
}

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

async function uploadPages(sas, data) {
  const writes = [];
  for (let start = 0; start < data.length; start += MIB) {
    const end = Math.min(start + MIB, data.length) - 1;
    writes.push(fetch(sas, {
      method: "PUT",
      headers: { "x-ms-range": `bytes=${start}-${end}`, "x-ms-page-write": "update", "x-ms-blob-type": "PageBlob" },
      body: data.subarray(start, end + 1),
    }).then(async (r) => {
      if (r.status !== 201) {
        throw new Error(`page write ${start}-${end}: ${r.status} ${await r.text()}`);
      }
    }));
  }
  await Promise.all(writes);
  return writes.length;
}

async function download(sas) {
  const r = await fetch(sas);
  if (r.status !== 200) {
    throw new Error(`download: ${r.status} ${await r.text()}`);
  }
  return Buffer.from(await r.arrayBuffer());
}

async function names(iterator) {
  const all = [];
  for await (const item of iterator) {
    all.push(item.name);
  }
  return all.sort();
}

/** The DES's identity gets get/wrapKey/unwrapKey on the vault, through Microsoft.KeyVault as az keyvault set-policy. */
async function grantVaultAccess(principalId, tenantId) {
  const token = await credential.getToken(scope);
  const r = await fetch(`${endpoint}${vaultId}/accessPolicies/add?api-version=2022-07-01`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
    body: JSON.stringify({ properties: { accessPolicies: [
      { tenantId, objectId: principalId, permissions: { keys: ["get", "wrapKey", "unwrapKey"] } }] } }),
  });
  if (r.status !== 200 && r.status !== 201) {
    throw new Error(`access policy: ${r.status} ${await r.text()}`);
  }
}

/** What the client surfaces for an ARM error: status and the code and message parsed from {"error":{...}}. */
async function armError(call) {
  try {
    await call();
  } catch (e) {
    return { statusCode: e.statusCode, code: e.code, message: e.message };
  }
  throw new Error("expected the call to fail");
}

async function main() {
  const result = { calls: [] };
  const step = (name) => {
    log(name);
    result.calls.push(name);
  };
  const data = image();
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
  await grantVaultAccess(des.identity.principalId, des.identity.tenantId);

  step("disks.beginCreateOrUpdateAndWait Empty");
  const empty = await client.disks.beginCreateOrUpdateAndWait(rg, "empty-cvm", {
    location, sku: { name: "Premium_LRS" }, diskSizeGB: 4, osType: "Linux", hyperVGeneration: "V2",
    creationData: { createOption: "Empty" }, securityProfile: cvmProfile(des.id),
  });
  result.emptyDisk = { diskSizeGB: empty.diskSizeGB, diskState: empty.diskState,
    securityType: empty.securityProfile?.securityType, provisioningState: empty.provisioningState };

  step("disks.beginCreateOrUpdateAndWait Upload");
  await client.disks.beginCreateOrUpdateAndWait(rg, "upload-cvm", {
    location, sku: { name: "Premium_LRS" }, osType: "Linux", hyperVGeneration: "V2",
    creationData: { createOption: "Upload", uploadSizeBytes: imageBytes }, securityProfile: cvmProfile(des.id),
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
    location, incremental: true,
    creationData: { createOption: "Copy", sourceResourceId: `${des.id.split("/providers/")[0]}/providers/`
      + "Microsoft.Compute/disks/upload-cvm" },
  });
  result.snapshot = { incremental: snapshot.incremental, familyId: snapshot.incrementalSnapshotFamilyId,
    provisioningState: snapshot.provisioningState };
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

  step("disks.listByResourceGroup, snapshots.listByResourceGroup, disks.list");
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

  step("errors: disks.get of a missing disk, disks create without diskSizeGB");
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

  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((e) => {
  log(`FAILED: ${e.stack ?? e}`);
  if (e.request) {
    log(`request: ${e.request.method} ${e.request.url}`);
  }
  if (e.response) {
    log(`response: ${e.response.status} ${e.response.bodyAsText ?? ""}`);
  }
  process.exit(1);
});
