package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.javalin.http.Context;

/**
 * The start of every management-plane (ARM) handler: the request must reach the management host, carry a valid
 * management token ({@link Authn}) and a supported {@code api-version} ({@link ApiVersions}), in that order, as
 * ARM checks them. Path parameters arrive decoded ({@code %3B} is {@code ;}); the router matches paths
 * case-insensitively and collapses {@code //}.
 */
public record ArmRequest(Context ctx, Principal caller, String apiVersion) {

    /** @param family the {@link ApiVersions} family of the route, e.g. {@link ApiVersions#RESOURCES} */
    public static ArmRequest begin(Context ctx, String family) {
        if (CoffreServer.host(ctx).kind() != RequestHost.Kind.MANAGEMENT) {
            // ARM paths exist only on the management host; a vault host answering them would be an alias.
            throw ArmException.notFound("NotFound", "No resource or operation at " + ctx.method() + " " + ctx.path()
                    + " on this host; management requests go to the management endpoint.");
        }
        Principal caller = Authn.principal(ctx);
        return new ArmRequest(ctx, caller, ApiVersions.require(ctx, family));
    }

    /** A path parameter, decoded. */
    public String path(String name) {
        return ctx.pathParam(name);
    }

    public String query(String name) {
        return ctx.queryParam(name);
    }

    /** The JSON body, which must be an object (an empty body is an empty object); anything else is a 400. */
    public JsonNode objectBody() {
        return objectBody(ctx);
    }

    /** {@link #objectBody()} for routes that take no {@code ArmRequest}. */
    public static JsonNode objectBody(Context ctx) {
        JsonNode body = Json.parse(ctx.body());
        if (!body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        return body;
    }

    /** The JSON body; an empty body is an empty object, malformed JSON a 400. */
    public JsonNode body() {
        return Json.parse(ctx.body());
    }

    /** {@code https://{host[:port]}} as the client addressed this server, for absolute links. */
    public static String baseUrl(Context ctx) {
        String host = ctx.header("Host");
        if (host == null || host.isBlank()) {
            throw ArmException.badRequest("MissingHost", "The Host header is required.");
        }
        return "https://" + host;
    }
}
