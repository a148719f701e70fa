package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One authenticated request to a Key Vault or Managed HSM data plane, checked in the order the SDKs need: the
 * host must be a key store, then the caller is authenticated (401 challenge before the body is looked at, since the
 * SDK's first request is bodiless), then the api-version, and only then is the body parsed.
 */
record KeyServiceCall(Context ctx, Principal caller, KeyService.Store store) {
    /** GA data-plane versions the official SDKs send (Java 4.10: 7.6, 4.11: 2025-07-01; az 2.45: 7.4-preview.1). */
    private static final Set<String> VERSIONS = Set.of("7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01");
    private static final Pattern PREVIEW_VERSION = Pattern.compile("7\\.[0-6]-preview(\\.[0-9]+)?");
    private static final String LATEST = "7.6";
    private static final int MAX_PAGE = 25;

    /** Any key-store host (Key Vault or Managed HSM). */
    static KeyServiceCall begin(Context ctx) {
        return begin(ctx, false);
    }

    /** Managed HSM only (local RBAC has no Key Vault equivalent on the data plane). */
    static KeyServiceCall beginManagedHsm(Context ctx) {
        return begin(ctx, true);
    }

    private static KeyServiceCall begin(Context ctx, boolean managedHsmOnly) {
        RequestHost host = CoffreServer.host(ctx);
        boolean served = managedHsmOnly ? host.kind() == RequestHost.Kind.MANAGED_HSM : host.isKeyService();
        if (!served) {
            throw ArmException.notFound("NotFound", "No resource or operation at " + ctx.method() + " "
                    + ctx.path() + " on this host; key operations are served on https://{name}.vault.{suffix} and "
                    + "https://{name}.managedhsm.{suffix}.");
        }
        Principal caller = Authn.principal(ctx);
        apiVersion(ctx);
        KeyService.Store store = host.kind() == RequestHost.Kind.VAULT
                ? KeyService.Store.vault(host.name()) : KeyService.Store.hsm(host.name());
        return new KeyServiceCall(ctx, caller, store);
    }

    /** The request's api-version; JS sends the name percent-encoded ({@code api%2Dversion}), which decodes the same. */
    static String apiVersion(Context ctx) {
        String version = ctx.queryParam("api-version");
        if (version == null || version.isBlank()) {
            throw ArmException.badRequest("BadParameter", "The api-version query parameter is required; use one of "
                    + "7.0 to " + LATEST + " (or their -preview variants) or 2025-07-01.");
        }
        if (!VERSIONS.contains(version) && !PREVIEW_VERSION.matcher(version).matches()) {
            throw ArmException.badRequest("BadParameter", "The specified version (" + version + ") is not recognized. "
                    + "Consider using the latest supported version (" + LATEST + ").");
        }
        return version;
    }

    String path(String name) {
        return ctx.pathParam(name);
    }

    /** The JSON object body; an empty body is an empty object, anything but an object is the caller's error. */
    JsonNode body() {
        JsonNode body = Json.parse(ctx.body());
        if (!body.isObject()) {
            throw ArmException.badRequest("BadParameter", "The request body must be a JSON object.");
        }
        return body;
    }

    /** Lower-cased path segment: operation names arrive as {@code wrapKey} or {@code wrapkey}. */
    String lowerPath(String name) {
        return path(name).toLowerCase(Locale.ROOT);
    }

    /** {@code maxresults}: 1..25, default 25, as the service enforces. */
    int maxResults() {
        return Paging.pageSize(ctx, "maxresults", MAX_PAGE, MAX_PAGE);
    }

    String skipToken() {
        return ctx.queryParam(Paging.SKIP_TOKEN);
    }

    /**
     * {@code {"value":[...],"nextLink":...}}; the next link is absolute on the host and port the client used, since
     * the SDKs follow it verbatim.
     */
    void renderPage(KeyService.Page page) {
        Paging.render(ctx, page.value(), page.nextSkipToken(), Paging.SKIP_TOKEN);
    }
}
