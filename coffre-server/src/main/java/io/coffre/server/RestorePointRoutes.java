package io.coffre.server;

import static io.coffre.server.ComputePaths.begin;
import static io.coffre.server.ComputePaths.group;
import static io.coffre.server.ComputePaths.sub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.Disks;
import io.coffre.compute.RestorePoints;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/**
 * Microsoft.Compute restore point collections, restore points (PUT is long-running: 201 with the polling headers)
 * and disk restore points with {@code beginGetAccess} / {@code endGetAccess}, on the management host.
 */
final class RestorePointRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String COLLECTIONS = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}/providers/"
            + ApiVersions.COMPUTE + "/restorePointCollections";
    private static final String COLLECTION = COLLECTIONS + "/{collection}";
    private static final String POINT = COLLECTION + "/restorePoints/{restorePoint}";
    private static final String DISK_POINTS = POINT + "/diskRestorePoints";
    private static final String DISK_POINT = DISK_POINTS + "/{diskRestorePoint}";
    private static final int PAGE_SIZE = 1000;

    private final RestorePoints points;
    private final AsyncOperations operations;

    RestorePointRoutes(RestorePoints points, AsyncOperations operations) {
        this.points = points;
        this.operations = operations;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.put(COLLECTION, ctx -> {
            ArmRequest req = begin(ctx);
            RestorePoints.Put put = points.putCollection(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    ArmRequest.objectBody(ctx));
            ctx.status(put.created() ? 201 : 200).json(put.resource());
        });
        routes.get(COLLECTION, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.json(points.getCollection(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    expands(ctx, "restorePoints")));
        });
        routes.delete(COLLECTION, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.status(points.deleteCollection(req.caller(), sub(ctx), group(ctx), collection(ctx)) ? 200 : 204);
        });
        routes.get(COLLECTIONS, ctx -> {
            ArmRequest req = begin(ctx);
            Paging.renderPage(ctx, points.listCollections(req.caller(), sub(ctx), group(ctx)), "$top", PAGE_SIZE,
                    PAGE_SIZE);
        });
        routes.get(SUBSCRIPTION + "/providers/" + ApiVersions.COMPUTE + "/restorePointCollections", ctx -> {
            ArmRequest req = begin(ctx);
            Paging.renderPage(ctx, points.listCollections(req.caller(), sub(ctx), null), "$top", PAGE_SIZE,
                    PAGE_SIZE);
        });

        routes.put(POINT, ctx -> {
            ArmRequest req = begin(ctx);
            RestorePoints.Accepted accepted = points.create(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    restorePoint(ctx), ArmRequest.objectBody(ctx));
            String location = points.getCollection(req.caller(), sub(ctx), group(ctx), collection(ctx), false)
                    .path("location").asText();
            Lro.accepted(ctx, operations.get(accepted.operationId()).orElseThrow(), location, 201);
            ctx.json(accepted.resource());
        });
        routes.get(POINT, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.json(points.get(req.caller(), sub(ctx), group(ctx), collection(ctx), restorePoint(ctx),
                    expands(ctx, "instanceView")));
        });
        routes.delete(POINT, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.status(points.delete(req.caller(), sub(ctx), group(ctx), collection(ctx), restorePoint(ctx))
                    ? 200 : 204);
        });

        routes.get(DISK_POINTS, ctx -> {
            ArmRequest req = begin(ctx);
            Paging.renderPage(ctx, points.listDiskRestorePoints(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    restorePoint(ctx)), "$top", PAGE_SIZE, PAGE_SIZE);
        });
        routes.get(DISK_POINT, ctx -> {
            ArmRequest req = begin(ctx);
            ctx.json(points.getDiskRestorePoint(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    restorePoint(ctx), ctx.pathParam("diskRestorePoint")));
        });
        routes.post(DISK_POINT + "/beginGetAccess", ctx -> {
            ArmRequest req = begin(ctx);
            JsonNode body = ArmRequest.objectBody(ctx);
            Disks.Grant grant = points.grantAccess(req.caller(), sub(ctx), group(ctx), collection(ctx),
                    restorePoint(ctx), ctx.pathParam("diskRestorePoint"), body.path("access").asText(null),
                    body.path("durationInSeconds").asLong(0), body.path("getSecureVMGuestStateSAS").asBoolean(false));
            ObjectNode result = DiskDataRoutes.accessUri(ctx, grant);
            completed(ctx, req, RestorePoints.DISK_RESTORE_POINT_TYPE + "/beginGetAccess", Json.write(result));
        });
        routes.post(DISK_POINT + "/endGetAccess", ctx -> {
            ArmRequest req = begin(ctx);
            points.revokeAccess(req.caller(), sub(ctx), group(ctx), collection(ctx), restorePoint(ctx),
                    ctx.pathParam("diskRestorePoint"));
            completed(ctx, req, RestorePoints.DISK_RESTORE_POINT_TYPE + "/endGetAccess", AsyncOperations.EMPTY_RESULT);
        });
    }

    /** Access grants finish at once; the answer still carries the polling headers the SDKs follow. */
    private void completed(Context ctx, ArmRequest req, String kind, String result) {
        ObjectNode diskPoint = points.getDiskRestorePoint(req.caller(), sub(ctx), group(ctx), collection(ctx),
                restorePoint(ctx), ctx.pathParam("diskRestorePoint"));
        String location = points.getCollection(req.caller(), sub(ctx), group(ctx), collection(ctx), false)
                .path("location").asText();
        AsyncOperations.Operation op = operations.start(diskPoint.path("id").asText(), kind);
        operations.succeed(op.id(), result);
        Lro.accepted(ctx, op, location, 202);
    }

    private static boolean expands(Context ctx, String what) {
        String expand = ctx.queryParam("$expand");
        return expand != null && expand.equalsIgnoreCase(what);
    }

    private static String collection(Context ctx) {
        return ctx.pathParam("collection");
    }

    private static String restorePoint(Context ctx) {
        return ctx.pathParam("restorePoint");
    }
}
