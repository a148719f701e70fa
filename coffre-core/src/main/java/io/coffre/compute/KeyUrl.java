package io.coffre.compute;

import io.coffre.Endpoints;
import io.coffre.arm.ArmException;
import io.coffre.keyvault.KeyService.Store;
import java.net.URI;
import java.util.Locale;

/**
 * A versioned key id of this Coffre's key service:
 * {@code https://{store}.vault|managedhsm.{suffix}/keys/{name}/{version}}.
 */
public record KeyUrl(Store store, String name, String version, String text) {

    /** The versionless id, lower-case: what new versions of the same key share. */
    String base() {
        return text.substring(0, text.lastIndexOf('/')).toLowerCase(Locale.ROOT);
    }

    public static KeyUrl parse(String text, Endpoints endpoints) {
        if (text == null || text.isBlank()) {
            throw invalid(text, "it is missing");
        }
        URI uri;
        try {
            uri = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw invalid(text, "it is not a URL");
        }
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        Store.Kind kind;
        String suffix;
        if (host.endsWith(".vault." + endpoints.dnsSuffix())) {
            kind = Store.Kind.VAULT;
            suffix = ".vault." + endpoints.dnsSuffix();
        } else if (host.endsWith(".managedhsm." + endpoints.dnsSuffix())) {
            kind = Store.Kind.MANAGED_HSM;
            suffix = ".managedhsm." + endpoints.dnsSuffix();
        } else {
            throw invalid(text, "its host is not a key vault or managed HSM of this Coffre (*.vault."
                    + endpoints.dnsSuffix() + " or *.managedhsm." + endpoints.dnsSuffix() + ")");
        }
        String[] path = uri.getPath() == null ? new String[0] : uri.getPath().replaceAll("^/+|/+$", "").split("/");
        if (path.length != 3 || !path[0].equals("keys") || path[1].isEmpty() || path[2].isEmpty()) {
            throw invalid(text, "it must be versioned: https://{vault}" + suffix + "/keys/{name}/{version}"
                    + " (a DES always names a key version, also with rotationToLatestKeyVersionEnabled)");
        }
        String storeName = host.substring(0, host.length() - suffix.length());
        return new KeyUrl(new Store(kind, storeName), path[1], path[2], text);
    }

    private static ArmException invalid(String text, String why) {
        return ArmException.badRequest("InvalidParameter", "The keyUrl '" + text + "' of activeKey is invalid: "
                + why + ".");
    }
}
