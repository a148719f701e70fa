package io.coffre.server;

import static io.coffre.server.ComputePaths.group;
import static io.coffre.server.ComputePaths.name;
import static io.coffre.server.ComputePaths.sub;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/**
 * Microsoft.Compute/diskEncryptionSets on the management host. PUT answers 200 (az 2.45 rejects 201); when the PUT
 * or PATCH started a key rotation, the answer carries the polling headers of that rotation's operation.
 */
final class DiskEncryptionSetRoutes implements RouteModule {
    private static final String GROUP = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}";
    private static final String COLLECTION = "/providers/Microsoft.Compute/diskEncryptionSets";
    private static final int PAGE_SIZE = 1000;


    private final DiskEncryptionSets sets;
    private final AsyncOperations operations;

    DiskEncryptionSetRoutes(DiskEncryptionSets sets, AsyncOperations operations) {
        this.sets = sets;
        this.operations = operations;
    }

    @Override
    public void register(RoutesConfig routes) {
        String item = GROUP + COLLECTION + "/{name}";
        routes.put(item, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            respond(ctx, sets.put(r.caller(), sub(ctx), group(ctx), name(ctx), r.objectBody()));
        });
        routes.patch(item, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            respond(ctx, sets.patch(r.caller(), sub(ctx), group(ctx), name(ctx), r.objectBody()));
        });
        routes.get(item, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            ctx.json(sets.get(r.caller(), sub(ctx), group(ctx), name(ctx)));
        });
        routes.delete(item, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            try {
                sets.delete(r.caller(), sub(ctx), group(ctx), name(ctx));
                ctx.status(200);
            } catch (ArmException e) {
                if (e.status() != 404) {
                    throw e;
                }
                ctx.status(204);
            }
        });
        routes.get(item + "/associatedResources", ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            ObjectNode body = Json.object();
            sets.associatedResources(r.caller(), sub(ctx), group(ctx), name(ctx))
                    .forEach(body.putArray("value")::add);
            ctx.json(body);
        });
        routes.get(GROUP + COLLECTION, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            Paging.renderPage(ctx, sets.list(r.caller(), sub(ctx), group(ctx)), "$top", PAGE_SIZE,
                    PAGE_SIZE);
        });
        routes.get("/subscriptions/{subscriptionId}" + COLLECTION, ctx -> {
            ArmRequest r = ArmRequest.begin(ctx, ApiVersions.COMPUTE);
            Paging.renderPage(ctx, sets.list(r.caller(), sub(ctx), null), "$top", PAGE_SIZE, PAGE_SIZE);
        });
    }

    private void respond(Context ctx, DiskEncryptionSets.PutResult result) {
        ctx.status(200);
        if (result.rotationOperationId() != null) {
            operations.get(result.rotationOperationId()).ifPresent(op ->
                    Lro.accepted(ctx, op, result.resource().path("location").asText(), 200));
        }
        ctx.json(result.resource());
    }
}
