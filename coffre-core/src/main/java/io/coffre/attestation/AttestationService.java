package io.coffre.attestation;

import java.util.Map;

/**
 * Coffre's built-in attestation authority, shaped like Microsoft Azure Attestation: it issues RS256 attestation
 * tokens for confidential VMs (the claims Secure Key Release policies match), publishes its OIDC metadata and
 * signing certificates, and verifies tokens for the key service.
 */
public interface AttestationService extends AttestationVerifier {
    /** The attestation types, as named in the MAA paths {@code /attest/SevSnpVm|TdxVm|AzureGuest}. */
    String SEV_SNP_VM = "SevSnpVm";
    String TDX_VM = "TdxVm";
    String AZURE_GUEST = "AzureGuest";

    /** The compliance status a healthy confidential VM gets (what the default CVM release policy requires). */
    String AZURE_COMPLIANT_CVM = "azure-compliant-cvm";

    /**
     * Issues an attestation token valid for 8 hours.
     *
     * @param type             {@link #SEV_SNP_VM}, {@link #TDX_VM} or {@link #AZURE_GUEST} (case-insensitive)
     * @param runtimeKeyJwk    the VM's RSA public key (a JWK: kty, n, e) that released keys are wrapped to
     * @param vmId             the VM's unique id, or null
     * @param complianceStatus null for {@link #AZURE_COMPLIANT_CVM}
     * @return the token (compact JWS)
     * @throws io.coffre.arm.ArmException 400 for an unknown type, a runtime key that is not a public RSA key of at
     *         least 2048 bits, or a malformed vmId / compliance status
     */
    String issue(String type, Map<String, Object> runtimeKeyJwk, String vmId, String complianceStatus);

    /** The OIDC metadata document ({@code /.well-known/openid-configuration}); {@code jwks_uri} is under baseUrl. */
    String openIdConfiguration(String baseUrl);

    /** The signing keys ({@code /certs}): JWKS whose keys carry kid, kty and x5c. */
    String jwks();
}
