package io.coffre.keyvault.crypto;

import static io.coffre.keyvault.crypto.KeyMaterialTest.badParameter;
import static org.assertj.core.api.Assertions.assertThat;

import io.coffre.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReleasePolicyTest {
    private static final String AUTHORITY = "https://attest.coffre.localhost:8443";
    private static final ReleasePolicy CVM = ReleasePolicy.parse(ReleasePolicy.defaultCvmPolicy(AUTHORITY));

    @Test
    void defaultCvmPolicyHasTheDocumentedShape() {
        assertThat(new String(ReleasePolicy.defaultCvmPolicy(AUTHORITY), StandardCharsets.UTF_8)).isEqualTo(
                "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"" + AUTHORITY + "/\",\"allOf\":["
                        + "{\"claim\":\"x-ms-compliance-status\",\"equals\":\"azure-compliant-cvm\"},"
                        + "{\"anyOf\":[{\"claim\":\"x-ms-attestation-type\",\"equals\":\"sevsnpvm\"},"
                        + "{\"claim\":\"x-ms-attestation-type\",\"equals\":\"tdxvm\"}]}]}]}");
        assertThat(ReleasePolicy.parse(ReleasePolicy.defaultCvmPolicy(AUTHORITY + "/")).authorities())
                .containsExactly(AUTHORITY + "/");
    }

    @ParameterizedTest
    @CsvSource({"sevsnpvm,https://attest.coffre.localhost:8443", "tdxvm,https://attest.coffre.localhost:8443/"})
    void defaultCvmPolicyReleasesToACompliantCvmOfItsAuthority(String type, String issuer) {
        assertThat(CVM.evaluate(issuer, cvmClaims(type))).isEmpty();
    }

    @Test
    void refusesAGuestTokenAndSaysWhy() {
        assertThat(CVM.evaluate(AUTHORITY, cvmClaims("azurevm"))).hasValue(
                "claim 'x-ms-attestation-type' is 'azurevm'; the policy of authority " + AUTHORITY
                        + "/ requires 'sevsnpvm' or 'tdxvm'");
    }

    @Test
    void refusesAnotherIssuer() {
        assertThat(CVM.evaluate("https://sharedeus.eus.attest.azure.net", cvmClaims("sevsnpvm")).orElseThrow())
                .startsWith("no authority in the release policy matches the token issuer "
                        + "https://sharedeus.eus.attest.azure.net")
                .contains(AUTHORITY);
        assertThat(CVM.evaluate(AUTHORITY + "//", cvmClaims("sevsnpvm"))).as("only one trailing slash is ignored")
                .isPresent();
        assertThat(CVM.evaluate(null, cvmClaims("sevsnpvm")).orElseThrow()).contains("no issuer");
    }

    @Test
    void refusesAMissingClaim() {
        Map<String, Object> claims = cvmClaims("sevsnpvm");
        claims.remove("x-ms-compliance-status");
        assertThat(CVM.evaluate(AUTHORITY, claims)).hasValue("claim 'x-ms-compliance-status' is missing from the "
                + "attestation token; the policy of authority " + AUTHORITY + "/ requires 'azure-compliant-cvm'");
        assertThat(CVM.evaluate(AUTHORITY, null)).isPresent();
    }

    @Test
    void dottedClaimsWalkNestedObjects() {
        ReleasePolicy guest = ReleasePolicy.parse(("{\"version\":\"1.0.2\",\"anyOf\":[{\"authority\":\"" + AUTHORITY
                + "\",\"allOf\":[{\"claim\":\"x-ms-isolation-tee.x-ms-attestation-type\",\"equals\":\"sevsnpvm\"},"
                + "{\"claim\":\"x-ms-isolation-tee.x-ms-compliance-status\",\"equals\":\"azure-compliant-cvm\"}]}]}")
                .getBytes(StandardCharsets.UTF_8));
        Map<String, Object> claims = new HashMap<>();
        claims.put("x-ms-attestation-type", "azurevm");
        claims.put("x-ms-isolation-tee", Map.of("x-ms-attestation-type", "sevsnpvm",
                "x-ms-compliance-status", "azure-compliant-cvm"));
        assertThat(guest.evaluate(AUTHORITY + "/", claims)).isEmpty();
        claims.put("x-ms-isolation-tee", Map.of("x-ms-attestation-type", "tdxvm"));
        assertThat(guest.evaluate(AUTHORITY, claims).orElseThrow())
                .startsWith("claim 'x-ms-isolation-tee.x-ms-attestation-type' is 'tdxvm'");
        claims.put("x-ms-isolation-tee", "not an object");
        assertThat(guest.evaluate(AUTHORITY, claims).orElseThrow()).contains("is missing");
    }

    @Test
    void comparesNumbersBooleansAndTheLegacyForm() {
        ReleasePolicy policy = ReleasePolicy.parse(("{\"version\":\"1.0\",\"anyOf\":[{\"authority\":\"" + AUTHORITY
                + "\",\"anyOf\":[{\"allOf\":[{\"claim\":\"sdk-test\",\"equals\":true},"
                + "{\"claim\":\"x-ms-sevsnpvm-vmpl\",\"equals\":0}]},"
                + "{\"claim\":\"legacy\",\"condition\":\"equals\",\"value\":\"true\"}]}]}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(policy.evaluate(AUTHORITY, Map.of("sdk-test", true, "x-ms-sevsnpvm-vmpl", 0L))).isEmpty();
        assertThat(policy.evaluate(AUTHORITY, Map.of("sdk-test", true, "x-ms-sevsnpvm-vmpl", 0.0))).isEmpty();
        assertThat(policy.evaluate(AUTHORITY, Map.of("legacy", true))).isEmpty();
        assertThat(policy.evaluate(AUTHORITY, Map.of("sdk-test", true, "x-ms-sevsnpvm-vmpl", 2L)).orElseThrow())
                .isEqualTo("the policy of authority " + AUTHORITY + " requires claim 'x-ms-sevsnpvm-vmpl' to be 0 "
                        + "(it is 2) or claim 'legacy' to be 'true' (it is missing from the attestation token)");
        assertThat(policy.evaluate(AUTHORITY, Map.of("sdk-test", Map.of(), "legacy", List.of("true"))))
                .isPresent();
    }

    @Test
    void anyMatchingAuthorityCanRelease() {
        ReleasePolicy policy = ReleasePolicy.parse(("{\"version\":\"1.0.0\",\"anyOf\":["
                + "{\"authority\":\"" + AUTHORITY + "/\",\"allOf\":[{\"claim\":\"a\",\"equals\":\"1\"}]},"
                + "{\"authority\":\"" + AUTHORITY + "\",\"allOf\":[{\"claim\":\"b\",\"equals\":\"2\"}]}]}")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(policy.evaluate(AUTHORITY, Map.of("b", "2"))).isEmpty();
        assertThat(policy.evaluate(AUTHORITY, Map.of("b", "3")).orElseThrow()).contains("claim 'a'");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "not json|not valid JSON",
        "[]|must be a JSON object",
        "{\"anyOf\":[]}|'version' must be \"1.0.0\" (it is missing)",
        "{\"version\":\"2.0.0\",\"anyOf\":[]}|(it is \"2.0.0\")",
        "{\"version\":\"1.0.0\"}|needs a non-empty array 'anyOf'",
        "{\"version\":\"1.0.0\",\"anyOf\":[]}|needs a non-empty array 'anyOf'",
        "{\"version\":\"1.0.0\",\"anyOf\":[],\"extra\":1}|unexpected member 'extra'",
        "{\"version\":\"1.0.0\",\"anyOf\":[\"x\"]}|anyOf[0] must be an object",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"allOf\":[{\"claim\":\"c\",\"equals\":\"v\"}]}]}|anyOf[0].authority must be",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"attest\",\"allOf\":[{\"claim\":\"c\",\"equals\":\"v\"}]}]}|(it is \"attest\")",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\"}]}|anyOf[0] must have exactly one of 'allOf' and 'anyOf'",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[],\"anyOf\":[]}]}|exactly one of",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[]}]}|anyOf[0] needs a non-empty array 'allOf'",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"claim\":\"c\"}]}]}|anyOf[0].allOf[0].equals is missing",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"claim\":\"c\",\"equals\":{}}]}]}|must be a string, a number or true/false",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"claim\":\"c\",\"greater\":1}]}]}|uses 'greater'; the only operator",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"claim\":\"\",\"equals\":1}]}]}|anyOf[0].allOf[0].claim must be",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"claim\":\"c\",\"condition\":\"less\",\"value\":1}]}]}|uses condition \"less\"",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"anyOf\":[{\"allOf\":[7]}]}]}]}|anyOf[0].allOf[0].anyOf[0].allOf[0] must be an object",
        "{\"version\":\"1.0.0\",\"anyOf\":[{\"authority\":\"https://a\",\"allOf\":[{\"foo\":1}]}]}|anyOf[0].allOf[0] has an unexpected member 'foo'",
    })
    void malformedPoliciesAreRefusedWithAPreciseReason(String policy, String reason) {
        badParameter(() -> ReleasePolicy.parse(policy.getBytes(StandardCharsets.UTF_8)))
                .hasMessageStartingWith("The release policy is not valid: ").hasMessageContaining(reason);
    }

    @Test
    void acceptsTheReferenceCvmPolicyVerbatim() {
        String reference = """
                { "version": "1.0.0", "anyOf": [ { "authority": "https://sharedeus.eus.attest.azure.net/",
                  "allOf": [ { "claim": "x-ms-compliance-status", "equals": "azure-compliant-cvm" },
                             { "anyOf": [ { "claim": "x-ms-attestation-type", "equals": "sevsnpvm" },
                                          { "claim": "x-ms-attestation-type", "equals": "tdxvm" } ] } ] } ] }""";
        ReleasePolicy policy = ReleasePolicy.parse(reference.getBytes(StandardCharsets.UTF_8));
        assertThat(policy.evaluate("https://sharedeus.eus.attest.azure.net", cvmClaims("tdxvm"))).isEmpty();
        assertThat(Json.parse(reference).equals(Json.parse(new String(ReleasePolicy.defaultCvmPolicy(
                "https://sharedeus.eus.attest.azure.net"), StandardCharsets.UTF_8)))).isTrue();
    }

    private static Map<String, Object> cvmClaims(String type) {
        Map<String, Object> claims = new HashMap<>();
        claims.put("iss", AUTHORITY);
        claims.put("x-ms-attestation-type", type);
        claims.put("x-ms-compliance-status", "azure-compliant-cvm");
        return claims;
    }
}
