package io.coffre.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceId;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/**
 * The polling side of {@link Lro}, for every provider: the operation status (what {@code Azure-AsyncOperation}
 * points at) and the operation result (what {@code Location} points at). Whoever may read the operation's resource
 * may poll it.
 */
final class OperationRoutes implements RouteModule {
    private static final String BASE = "/subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}";

    private final CoffreCore core;

    OperationRoutes(CoffreCore core) {
        this.core = core;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get(BASE + "/operations/{operationId}", ctx -> {
            AsyncOperations.Operation op = operation(ctx);
            ctx.json(status(ctx, op));
        });
        routes.get(BASE + "/operationResults/{operationId}", ctx -> {
            AsyncOperations.Operation op = operation(ctx);
            switch (op.status()) {
                case InProgress -> Lro.accepted(ctx, op, ctx.pathParam("location"));
                case Succeeded -> {
                    if (op.result() == null) {
                        ctx.status(204);
                    } else if (op.result().equals(AsyncOperations.EMPTY_RESULT)) {
                        ctx.status(200);
                    } else {
                        ctx.contentType("application/json; charset=utf-8").result(op.result());
                    }
                }
                case Failed -> throw new ArmException(op.errorStatus() == 0 ? 500 : op.errorStatus(), op.errorCode(),
                        op.errorMessage());
            }
        });
    }

    /** Authenticates, checks the api-version of the namespace, and finds an operation the caller may read. */
    private AsyncOperations.Operation operation(Context ctx) {
        Authn.principal(ctx); // 401 comes first, even for a namespace Coffre does not serve
        String namespace = ctx.pathParam("namespace");
        if (!ApiVersions.isRegistered(namespace)) {
            throw ArmException.notFound("InvalidResourceNamespace", "The resource namespace '" + namespace
                    + "' is invalid.");
        }
        ArmRequest req = ArmRequest.begin(ctx, namespace);
        String id = req.path("operationId");
        AsyncOperations.Operation op = core.asyncOperations().get(id)
                .filter(o -> belongsTo(o, req.path("subscriptionId"), namespace))
                .orElseThrow(() -> ArmException.notFound("OperationNotFound", "There is no operation '" + id
                        + "' of " + namespace + " in subscription '" + req.path("subscriptionId") + "'."));
        ResourceId resource = ResourceId.parse(op.resourceId());
        core.accessControl().require(req.caller(), resource.toString(), readAction(resource), false);
        return op;
    }

    private static boolean belongsTo(AsyncOperations.Operation op, String subscriptionId, String namespace) {
        return ResourceId.parse(op.resourceId()).subscriptionId().equalsIgnoreCase(subscriptionId)
                && Lro.namespaceOf(op).equalsIgnoreCase(namespace);
    }

    private static String readAction(ResourceId resource) {
        if (resource.isSubscription()) {
            return "Microsoft.Resources/subscriptions/read";
        }
        return resource.isResourceGroup() ? "Microsoft.Resources/subscriptions/resourceGroups/read"
                : resource.type() + "/read";
    }

    private static ObjectNode status(Context ctx, AsyncOperations.Operation op) {
        ObjectNode n = Json.object();
        n.put("id", "/subscriptions/" + ctx.pathParam("subscriptionId") + "/providers/" + ctx.pathParam("namespace")
                + "/locations/" + ctx.pathParam("location") + "/operations/" + op.id());
        n.put("name", op.id());
        n.put("status", op.status().name());
        n.put("startTime", op.startTime().toString());
        if (op.endTime() != null) {
            n.put("endTime", op.endTime().toString());
        }
        if (op.status() == AsyncOperations.Status.Failed) {
            ObjectNode error = n.putObject("error");
            error.put("code", op.errorCode());
            error.put("message", op.errorMessage());
        }
        return n;
    }
}
