package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bodies the CLI sends, against the shapes az and the SDKs send (reference az-cli-2.45-wire §5, shapes §1-2). */
class RequestShapesTest {
    @Test
    void vaultBodyIsWhatAzSends() {
        assertThat(KeyVaultCommand.vaultBody("uaenorth", "t1", "premium", "oid1", 90, true, null)).isEqualTo(Json.parse("""
                {"location":"uaenorth","properties":{"tenantId":"t1","sku":{"family":"A","name":"premium"},
                 "accessPolicies":[{"tenantId":"t1","objectId":"oid1","permissions":{"keys":["all"],"secrets":["all"],
                   "certificates":["all"],"storage":["all"]}}],
                 "enableSoftDelete":true,"softDeleteRetentionInDays":90,"enablePurgeProtection":true,
                 "networkAcls":{"bypass":"AzureServices","defaultAction":"Allow"}}}"""));
    }

    @Test
    void rbacVaultsGetNoAccessPolicy() {
        JsonNode body = KeyVaultCommand.vaultBody("uaenorth", "t1", "standard", null, 7, null, true);
        assertThat(body.path("properties").path("accessPolicies")).isEmpty();
        assertThat(body.path("properties").path("enableRbacAuthorization").asBoolean()).isTrue();
        assertThat(body.path("properties").has("enablePurgeProtection")).isFalse();
        assertThat(body.path("properties").path("softDeleteRetentionInDays").asInt()).isEqualTo(7);
    }

    @Test
    void managedHsmBody() {
        assertThat(KeyVaultCommand.hsmBody("uaenorth", "t1", List.of("a", "b"), 30, false)).isEqualTo(Json.parse("""
                {"location":"uaenorth","sku":{"family":"B","name":"Standard_B1"},"properties":{"tenantId":"t1",
                 "initialAdminObjectIds":["a","b"],"enableSoftDelete":true,"softDeleteRetentionInDays":30,
                 "enablePurgeProtection":false}}"""));
    }

    @Test
    void setPolicyAppendsANewPrincipalAndReplacesAnExistingPrincipalsKeyPermissions() {
        JsonNode vault = Json.parse("""
                {"id":"/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv","location":"x",
                 "properties":{"tenantId":"T","vaultUri":"https://kv.vault.coffre.localhost:8443/",
                  "accessPolicies":[{"tenantId":"T","objectId":"OWNER","permissions":{"keys":["all"],"secrets":["get"]}}]}}""");
        ObjectNode added = KeyVaultCommand.withKeyPermissions(vault, "bms", List.of("get", "list", "backup"));
        assertThat(added.path("properties").path("accessPolicies")).hasSize(2);
        assertThat(added.path("properties").path("accessPolicies").path(1)).isEqualTo(Json.parse(
                "{\"tenantId\":\"T\",\"objectId\":\"bms\",\"permissions\":{\"keys\":[\"get\",\"list\",\"backup\"]}}"));
        assertThat(added.path("properties").path("vaultUri").asText()).isNotEmpty();

        ObjectNode updated = KeyVaultCommand.withKeyPermissions(vault, "owner", List.of("get"));
        assertThat(updated.path("properties").path("accessPolicies")).hasSize(1);
        assertThat(updated.path("properties").path("accessPolicies").path(0).path("permissions")).isEqualTo(
                Json.parse("{\"keys\":[\"get\"],\"secrets\":[\"get\"]}"));
        assertThat(vault.path("properties").path("accessPolicies").path(0).path("permissions").path("keys").path(0)
                .asText()).as("the input is not modified").isEqualTo("all");
    }

    @Test
    void keyCreateParametersCarryTheReleasePolicyAsBase64urlJson() {
        JsonNode policy = CvmPolicy.defaultPolicy("https://attest.coffre.localhost:8443/");
        ObjectNode p = KeyCommand.createParameters("RSA-HSM", 3072, null, List.of("wrapKey", "unwrapKey"), true,
                policy, true);
        assertThat(p.path("kty").asText()).isEqualTo("RSA-HSM");
        assertThat(p.path("key_size").asInt()).isEqualTo(3072);
        assertThat(p.path("key_ops")).hasSize(2);
        assertThat(p.path("attributes")).isEqualTo(Json.parse("{\"enabled\":true,\"exportable\":true}"));
        JsonNode rp = p.path("release_policy");
        assertThat(rp.path("contentType").asText()).isEqualTo("application/json; charset=utf-8");
        assertThat(rp.path("immutable").asBoolean()).isTrue();
        String decoded = new String(Json.unb64url(rp.path("data").asText(), "data"), StandardCharsets.UTF_8);
        assertThat(Json.parse(decoded)).isEqualTo(policy);
        assertThat(KeyCommand.createParameters("EC", null, "P-256", null, null, null, null))
                .isEqualTo(Json.parse("{\"kty\":\"EC\",\"crv\":\"P-256\",\"attributes\":{\"enabled\":true}}"));
    }

    @Test
    void defaultCvmPolicyNamesTheServersAttestationAuthority() {
        assertThat(CvmPolicy.defaultPolicy("https://attest.coffre.localhost:8443/")).isEqualTo(Json.parse("""
                {"version":"1.0.0","anyOf":[{"authority":"https://attest.coffre.localhost:8443/","allOf":[
                  {"claim":"x-ms-compliance-status","equals":"azure-compliant-cvm"},
                  {"anyOf":[{"claim":"x-ms-attestation-type","equals":"sevsnpvm"},
                            {"claim":"x-ms-attestation-type","equals":"tdxvm"}]}]}]}"""));
    }

    @Test
    void customRoleDefinitionsFromAzInputOrWireShape() {
        JsonNode fromAz = HsmRoleCommand.definitionProperties(Json.parse("""
                {"roleName":"Backup keys","description":"d","dataActions":["Microsoft.KeyVault/managedHsm/keys/read/action"]}"""));
        assertThat(fromAz).isEqualTo(Json.parse("""
                {"roleName":"Backup keys","description":"d","type":"CustomRole","permissions":[{"actions":[],
                 "notActions":[],"dataActions":["Microsoft.KeyVault/managedHsm/keys/read/action"],"notDataActions":[]}],
                 "assignableScopes":["/"]}"""));
        assertThat(HsmRoleCommand.definitionProperties(Json.parse("{\"properties\":" + fromAz + "}"))).isEqualTo(fromAz);
    }

    @Test
    void releaseParametersNameOnlyWhatWasGiven() {
        assertThat(KeyCommand.releaseParameters("tok", null, null)).isEqualTo(Json.parse("{\"target\":\"tok\"}"));
        assertThat(KeyCommand.releaseParameters("tok", "n", "RSA_AES_KEY_WRAP_256")).isEqualTo(
                Json.parse("{\"target\":\"tok\",\"nonce\":\"n\",\"enc\":\"RSA_AES_KEY_WRAP_256\"}"));
    }

    @Test
    void scopesAndNamesAreEncodedIntoPaths() {
        assertThat(RoleApi.scopePath("/")).isEmpty();
        assertThat(RoleApi.scopePath("/keys/")).isEqualTo("/keys");
        assertThat(RoleApi.scopePath("/keys/cvm key")).isEqualTo("/keys/cvm%20key");
        assertThat(RoleApi.scopePath("/subscriptions/s/resourceGroups/rg")).isEqualTo("/subscriptions/s/resourceGroups/rg");
        assertThat(Urls.encode("roleName eq 'Owner'")).isEqualTo("roleName%20eq%20%27Owner%27");
        assertThat(Urls.encode("a/b")).isEqualTo("a%2Fb");
    }

    @Test
    void roleAssignmentsMatchByPrincipalAndRoleGuid() {
        JsonNode assignment = Json.parse("""
                {"name":"g","properties":{"scope":"/keys/k","principalId":"P1",
                 "roleDefinitionId":"Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/21dbd100-6940-42c2-9190-5d6cb909625b"}}""");
        JsonNode cryptoUser = Json.parse("{\"name\":\"21dbd100-6940-42c2-9190-5d6cb909625b\"}");
        assertThat(RoleApi.matches(assignment, "p1", cryptoUser)).isTrue();
        assertThat(RoleApi.matches(assignment, null, null)).isTrue();
        assertThat(RoleApi.matches(assignment, "P2", null)).isFalse();
        assertThat(RoleApi.matches(assignment, null, Json.parse("{\"name\":\"other\"}"))).isFalse();
    }

    @Test
    void jwkThumbprintFollowsRfc7638() {
        // RFC 7638 §3.1 example key and thumbprint.
        JsonNode jwk = Json.parse("""
                {"kty":"RSA","e":"AQAB","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}""");
        assertThat(Jwk.thumbprint(jwk)).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        ((ObjectNode) jwk).put("kty", "RSA-HSM");
        assertThat(Jwk.thumbprint(jwk)).isEqualTo("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    }
}
