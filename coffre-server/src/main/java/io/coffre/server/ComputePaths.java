package io.coffre.server;

import io.javalin.http.Context;

/** What every Microsoft.Compute route reads from its path, and how it starts (the compute api-versions). */
final class ComputePaths {
    private ComputePaths() {
    }

    static ArmRequest begin(Context ctx) {
        return ArmRequest.begin(ctx, ApiVersions.COMPUTE);
    }

    static String sub(Context ctx) {
        return ctx.pathParam("subscriptionId");
    }

    static String group(Context ctx) {
        return ctx.pathParam("resourceGroupName");
    }

    static String name(Context ctx) {
        return ctx.pathParam("name");
    }
}
