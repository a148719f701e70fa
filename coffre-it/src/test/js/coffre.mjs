// What the flows share: the environment ArmComputeJsTest passes, the official client and credential pointed at
// Coffre, plain HTTPS page writes and reads on access URLs, and a few REST calls outside Microsoft.Compute.
import { createHash } from "node:crypto";
import { ComputeManagementClient } from "@azure/arm-compute";
import { ClientSecretCredential } from "@azure/identity";

export function env(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`environment variable ${name} is not set`);
  }
  return value;
}

export const endpoint = env("COFFRE_ENDPOINT");
export const rg = env("COFFRE_RESOURCE_GROUP");
export const location = env("COFFRE_LOCATION");
export const vaultId = env("COFFRE_VAULT_ID");
const scope = env("COFFRE_MANAGEMENT_SCOPE");

const MIB = 1024 * 1024;

export const credential = new ClientSecretCredential(env("COFFRE_TENANT_ID"), env("COFFRE_CLIENT_ID"),
  env("COFFRE_CLIENT_SECRET"), { authorityHost: env("COFFRE_AUTHORITY_HOST"), disableInstanceDiscovery: true });
// No retries: a wire mismatch must fail at once, not be retried away.
export const client = new ComputeManagementClient(credential, env("COFFRE_SUBSCRIPTION_ID"),
  { endpoint, credentials: { scopes: [scope] }, retryOptions: { maxRetries: 0 } });

/** Records each call in the result and logs it with the time since start (to stderr). */
export function flow(name) {
  const started = Date.now();
  const result = { calls: [] };
  const step = (call) => {
    process.stderr.write(`[${name} +${Date.now() - started} ms] ${call}\n`);
    result.calls.push(call);
  };
  return { result, step };
}

/** Runs the flow; prints its result as one JSON line, or the failure with the request and response to stderr. */
export function run(name, main) {
  main().then((result) => process.stdout.write(`${JSON.stringify(result)}\n`)).catch((e) => {
    process.stderr.write(`[${name}] FAILED: ${e.stack ?? e}\n`);
    if (e.request) {
      process.stderr.write(`[${name}] request: ${e.request.method} ${e.request.url}\n`);
    }
    if (e.response) {
      process.stderr.write(`[${name}] response: ${e.response.status} ${e.response.bodyAsText ?? ""}\n`);
    }
    process.exit(1);
  });
}

/** A disk image: SHA-256 of "seed:i" for the i-th 32 bytes, so the Java side can compute it too. */
export function image(seed, size) {
  const data = Buffer.alloc(size);
  for (let offset = 0, i = 0; offset < size; offset += 32, i++) {
    createHash("sha256").update(`${seed}:${i}`).digest().copy(data, offset);
  }
  return data;
}

export const sha256 = (data) => createHash("sha256").update(data).digest("hex");

/** Page writes of 1 MiB (the last one shorter), all in flight at once, as azcopy sends them; returns their count. */
export async function uploadPages(sas, data) {
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

export async function download(sas) {
  const r = await fetch(sas);
  if (r.status !== 200) {
    throw new Error(`download: ${r.status} ${await r.text()}`);
  }
  return Buffer.from(await r.arrayBuffer());
}

export async function names(iterator) {
  const all = [];
  for await (const item of iterator) {
    all.push(item.name);
  }
  return all.sort();
}

/** What the client surfaces for an ARM error: status and the code and message parsed from {"error":{...}}. */
export async function armError(call) {
  try {
    await call();
  } catch (e) {
    return { statusCode: e.statusCode, code: e.code, message: e.message };
  }
  throw new Error("expected the call to fail");
}

/** A management-plane REST call outside Microsoft.Compute, with the same credential. */
export async function rest(method, pathAndQuery, body) {
  const token = await credential.getToken(scope);
  const r = await fetch(`${endpoint}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${token.token}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 300) {
    throw new Error(`${method} ${pathAndQuery}: ${r.status} ${text}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** Key permissions on the vault for a principal, through Microsoft.KeyVault as az keyvault set-policy. */
export async function grantVaultAccess(objectId, tenantId, permissions) {
  await rest("PUT", `${vaultId}/accessPolicies/add?api-version=2022-07-01`, { properties: { accessPolicies: [
    { tenantId, objectId, permissions: { keys: permissions } }] } });
}
