package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;

/** The server's attestation service ({@code https://attest.{suffix}}): tokens for a runtime key. */
final class AttestationApi {
    static final String API_VERSION = "2022-08-01";

    /** The token flavours: paravisor SEV-SNP / TDX tokens, or an Azure guest token with nested TEE claims. */
    enum Type { SevSnpVm, TdxVm, AzureGuest }

    private final CoffreHttp http;
    private final String issuer;

    AttestationApi(CoffreHttp http, String issuer) {
        this.http = http;
        this.issuer = issuer;
    }

    /** @param vmId null to let the server choose */
    String token(Type type, JsonNode runtimeKey, String vmId) {
        ObjectNode body = Json.object();
        body.set("runtimeKey", runtimeKey);
        if (vmId != null) {
            body.put("vmId", vmId);
        }
        JsonNode response = http.post(issuer + "/attest/" + type + "?api-version=" + API_VERSION, body);
        String token = response.path("token").asText("");
        if (token.isEmpty()) {
            throw new CliError("The attestation service answered without a token: " + response);
        }
        return token;
    }
}
