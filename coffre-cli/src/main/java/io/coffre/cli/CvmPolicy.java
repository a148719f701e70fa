package io.coffre.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;

/**
 * The release policy {@code --default-cvm-policy} puts on a key: Azure's default confidential-VM policy (a
 * compliant SEV-SNP or TDX confidential VM may get the key), with the server's own attestation service as the one
 * authority instead of Azure's shared MAA instances.
 */
final class CvmPolicy {
    private CvmPolicy() {
    }

    /** @param authority the attestation issuer, e.g. {@code https://attest.coffre.localhost:8443/} */
    static ObjectNode defaultPolicy(String authority) {
        ObjectNode teeType = Json.object();
        ArrayNode types = teeType.putArray("anyOf");
        types.add(claimEquals("x-ms-attestation-type", "sevsnpvm"));
        types.add(claimEquals("x-ms-attestation-type", "tdxvm"));
        ObjectNode rule = Json.object();
        rule.put("authority", authority);
        rule.putArray("allOf").add(claimEquals("x-ms-compliance-status", "azure-compliant-cvm")).add(teeType);
        ObjectNode policy = Json.object();
        policy.put("version", "1.0.0");
        policy.putArray("anyOf").add(rule);
        return policy;
    }

    private static ObjectNode claimEquals(String claim, String value) {
        ObjectNode condition = Json.object();
        condition.put("claim", claim);
        condition.put("equals", value);
        return condition;
    }
}
