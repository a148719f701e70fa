package io.coffre.server;

import static io.coffre.server.ComputePaths.begin;
import static io.coffre.server.ComputePaths.group;
import static io.coffre.server.ComputePaths.name;
import static io.coffre.server.ComputePaths.sub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.Disks;
import io.coffre.compute.Disks.Kind;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/**
 * Microsoft.Compute disks and snapshots on the management host: PUT / GET / PATCH / DELETE, lists, and
 * {@code beginGetAccess} / {@code endGetAccess}, whose access URL points at {@link DiskDataRoutes} on the host the
 * client used. PUT and grant are long-running in Azure; Coffre finishes them at once and answers with the polling
 * headers of an operation that has already succeeded.
 */
final class DiskRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}";
    private static final String PROVIDER = "/providers/" + ApiVersions.COMPUTE + "/";
    private static final int PAGE_SIZE = 1000;


    private final Disks disks;
    private final AsyncOperations operations;

    DiskRoutes(Disks disks, AsyncOperations operations) {
        this.disks = disks;
        this.operations = operations;
    }

    @Override
    public void register(RoutesConfig routes) {
        for (Kind kind : Kind.values()) {
            register(routes, kind);
        }
    }

    private void register(RoutesConfig routes, Kind kind) {
        String item = GROUP + PROVIDER + kind.collection + "/{name}";
        routes.put(item, ctx -> {
            ArmRequest req = begin(ctx);
            Disks.Put put = disks.put(req.caller(), kind, sub(ctx), group(ctx), name(ctx), ArmRequest.objectBody(ctx));
            completed(ctx, put.resource(), kind.resourceType() + "/write", put.created() ? 201 : 200,
                    Json.write(put.resource()));
            ctx.json(put.resource());
        });
        routes.get(item, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.json(disks.get(req.caller(), kind, sub(ctx), group(ctx), name(ctx)));
        });
        routes.patch(item, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.json(disks.patch(req.caller(), kind, sub(ctx), group(ctx), name(ctx), ArmRequest.objectBody(ctx)));
        });
        routes.delete(item, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.status(disks.delete(req.caller(), kind, sub(ctx), group(ctx), name(ctx)) ? 200 : 204);
        });
        routes.get(GROUP + PROVIDER + kind.collection, ctx -> {
            ArmRequest req = begin(ctx);
            Paging.renderPage(ctx, disks.list(req.caller(), kind, sub(ctx), group(ctx)), "$top", PAGE_SIZE,
                    PAGE_SIZE);
        });
        routes.get(SUBSCRIPTION + PROVIDER + kind.collection, ctx -> {
            ArmRequest req = begin(ctx);
            Paging.renderPage(ctx, disks.list(req.caller(), kind, sub(ctx), null), "$top", PAGE_SIZE, PAGE_SIZE);
        });
        routes.post(item + "/beginGetAccess", ctx -> {
            ArmRequest req = begin(ctx);
            JsonNode body = ArmRequest.objectBody(ctx);
            Disks.Grant grant = disks.grantAccess(req.caller(), kind, sub(ctx), group(ctx), name(ctx),
                    body.path("access").asText(null), body.path("durationInSeconds").asLong(0),
                    body.path("getSecureVMGuestStateSAS").asBoolean(false));
            ObjectNode result = DiskDataRoutes.accessUri(ctx, grant);
            ObjectNode resource = disks.get(req.caller(), kind, sub(ctx), group(ctx), name(ctx));
            completed(ctx, resource, kind.resourceType() + "/beginGetAccess", 202, Json.write(result));
        });
        routes.post(item + "/endGetAccess", ctx -> {
            ArmRequest req = begin(ctx);
            disks.revokeAccess(req.caller(), kind, sub(ctx), group(ctx), name(ctx));
            ObjectNode resource = disks.get(req.caller(), kind, sub(ctx), group(ctx), name(ctx));
            completed(ctx, resource, kind.resourceType() + "/endGetAccess", 202, AsyncOperations.EMPTY_RESULT);
        });
    }

    private void completed(Context ctx, ObjectNode resource, String operationKind, int status, String result) {
        AsyncOperations.Operation op = operations.start(resource.path("id").asText(), operationKind);
        operations.succeed(op.id(), result);
        Lro.accepted(ctx, op, resource.path("location").asText(), status);
    }
}
