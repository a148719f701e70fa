package io.coffre.server;

import java.util.Locale;

/**
 * What a request's Host header addresses. Key Vault and Managed HSM data planes are addressed by host name, as in
 * Azure ({@code {name}.vault.{suffix}}, {@code {name}.managedhsm.{suffix}}): the SDKs parse key ids by path
 * position and check the challenge resource against the host, so path-prefix routing would break them.
 */
public record RequestHost(Kind kind, String name) {
    public enum Kind { MANAGEMENT, VAULT, MANAGED_HSM, ATTESTATION }

    public static RequestHost classify(String hostHeader, String dnsSuffix) {
        String host = hostHeader == null ? "" : hostHeader.toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) {
            return new RequestHost(Kind.MANAGEMENT, null);
        }
        int colon = host.indexOf(':');
        if (colon >= 0) {
            host = host.substring(0, colon);
        }
        String suffix = dnsSuffix.toLowerCase(Locale.ROOT);
        if (host.endsWith(".vault." + suffix)) {
            return new RequestHost(Kind.VAULT, host.substring(0, host.length() - (".vault." + suffix).length()));
        }
        if (host.endsWith(".managedhsm." + suffix)) {
            return new RequestHost(Kind.MANAGED_HSM,
                    host.substring(0, host.length() - (".managedhsm." + suffix).length()));
        }
        if (host.equals("attest." + suffix)) {
            return new RequestHost(Kind.ATTESTATION, null);
        }
        return new RequestHost(Kind.MANAGEMENT, null);
    }

    public boolean isKeyService() {
        return kind == Kind.VAULT || kind == Kind.MANAGED_HSM;
    }
}
