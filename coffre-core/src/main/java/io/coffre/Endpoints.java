package io.coffre;

/**
 * The public addresses Coffre answers on, derived from the DNS suffix and port: what goes into key ids, vault
 * URIs, challenge resources, token audiences and issuer names.
 */
public record Endpoints(String dnsSuffix, int port) {
    private String portPart() {
        return port == 443 ? "" : ":" + port;
    }

    public String vaultUri(String name) {
        return "https://" + name + ".vault." + dnsSuffix + portPart();
    }

    public String managedHsmUri(String name) {
        return "https://" + name + ".managedhsm." + dnsSuffix + portPart();
    }

    /** Challenge resource and token audience of every Key Vault (no port: the SDKs compare host names only). */
    public String vaultResource() {
        return "https://vault." + dnsSuffix;
    }

    public String managedHsmResource() {
        return "https://managedhsm." + dnsSuffix;
    }

    /** Audience of directory (Graph-shaped) tokens; served on the management host. */
    public String graphResource() {
        return "https://graph." + dnsSuffix;
    }

    /** Audience of management-plane (ARM) tokens. */
    public String managementResource() {
        return "https://management." + dnsSuffix + "/";
    }

    /** Issuer of the built-in attestation service. */
    public String attestationIssuer() {
        return "https://attest." + dnsSuffix + portPart();
    }

    /** Authority host for Entra-ID-shaped sign-in ({@code /{tenant}/oauth2/v2.0/token}). */
    public String loginAuthority() {
        return "https://login." + dnsSuffix + portPart();
    }

    /** Base URL of the ARM-compatible management API. */
    public String managementBase() {
        return "https://management." + dnsSuffix + portPart();
    }
}
