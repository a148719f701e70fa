package io.coffre.server;

import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceId;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * ARM's async-operation answer: {@code Azure-AsyncOperation} (the status URL the SDK pollers follow),
 * {@code Location} (the result URL) and {@code Retry-After}, absolute on the host and port the client used. Both
 * URLs are served by the operations routes for every provider:
 * {@code /subscriptions/{s}/providers/{ns}/locations/{loc}/operations|operationResults/{id}}.
 */
public final class Lro {
    static final String RETRY_AFTER_SECONDS = "1";

    private Lro() {
    }

    /** 202 Accepted with the polling headers; the caller may still write a body. */
    public static void accepted(Context ctx, AsyncOperations.Operation op, String location) {
        accepted(ctx, op, location, 202);
    }

    /**
     * @param status 202 usually; some Azure APIs answer 200 or 201 with the same headers (e.g. a PUT whose body
     *               already shows {@code provisioningState})
     * @param location the resource's location, e.g. {@code uaenorth}
     */
    public static void accepted(Context ctx, AsyncOperations.Operation op, String location, int status) {
        ctx.status(status);
        ctx.header("Azure-AsyncOperation", statusUrl(ctx, op, location));
        ctx.header("Location", resultUrl(ctx, op, location));
        ctx.header("Retry-After", RETRY_AFTER_SECONDS);
    }

    public static String statusUrl(Context ctx, AsyncOperations.Operation op, String location) {
        return url(ctx, op, location, "operations");
    }

    public static String resultUrl(Context ctx, AsyncOperations.Operation op, String location) {
        return url(ctx, op, location, "operationResults");
    }

    /** The provider namespace whose operations routes serve {@code op}: its resource's, or Microsoft.Resources. */
    static String namespaceOf(AsyncOperations.Operation op) {
        String ns = ResourceId.parse(op.resourceId()).provider();
        return ns != null ? ns : ApiVersions.RESOURCES;
    }

    private static String url(Context ctx, AsyncOperations.Operation op, String location, String kind) {
        ResourceId resource = ResourceId.parse(op.resourceId());
        String apiVersion = ctx.queryParam("api-version");
        return ArmRequest.baseUrl(ctx) + "/subscriptions/" + resource.subscriptionId() + "/providers/"
                + namespaceOf(op) + "/locations/" + location + "/" + kind + "/" + op.id()
                + (apiVersion == null ? "" : "?api-version=" + URLEncoder.encode(apiVersion, StandardCharsets.UTF_8));
    }
}
