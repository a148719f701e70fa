package io.coffre.server;

import static io.coffre.server.ComputePaths.begin;
import static io.coffre.server.ComputePaths.group;
import static io.coffre.server.ComputePaths.name;
import static io.coffre.server.ComputePaths.sub;

import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.compute.vm.VirtualMachines;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Optional;

/**
 * Microsoft.Compute/virtualMachines on the management host (api-version 2026-04-01 among the COMPUTE family). PUT
 * answers 201 (create) or 200 (tags) with {@code Azure-AsyncOperation}; power actions and DELETE answer 202 with
 * the polling headers; GET takes {@code $expand=instanceView}; {@code .../vmSizes} lists the sizes a VM can be
 * resized to (a PUT or PATCH of {@code hardwareProfile.vmSize}; a running VM restarts).
 */
final class VirtualMachineRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}";
    private static final String COLLECTION = "/providers/Microsoft.Compute/virtualMachines";
    private static final int PAGE_SIZE = 1000;

    private final VirtualMachines vms;
    private final AsyncOperations operations;

    VirtualMachineRoutes(VirtualMachines vms, AsyncOperations operations) {
        this.vms = vms;
        this.operations = operations;
    }

    @Override
    public void register(RoutesConfig routes) {
        String item = GROUP + COLLECTION + "/{name}";
        routes.put(item, ctx -> {
            ArmRequest r = begin(ctx);
            accepted(ctx, vms.put(r.caller(), sub(ctx), group(ctx), name(ctx), r.objectBody()));
        });
        routes.get(item, ctx -> {
            ArmRequest r = begin(ctx);
            boolean expand = "instanceView".equalsIgnoreCase(ctx.queryParam("$expand"));
            ctx.json(vms.get(r.caller(), sub(ctx), group(ctx), name(ctx), expand));
        });
        routes.patch(item, ctx -> {
            ArmRequest r = begin(ctx);
            accepted(ctx, vms.patch(r.caller(), sub(ctx), group(ctx), name(ctx), r.objectBody()));
        });
        routes.delete(item, ctx -> {
            ArmRequest r = begin(ctx);
            String location = location(ctx);
            Optional<String> op = vms.delete(r.caller(), sub(ctx), group(ctx), name(ctx));
            if (op.isEmpty()) {
                ctx.status(204);
            } else {
                polling(ctx, op.get(), location, 202);
            }
        });
        routes.get(item + "/vmSizes", ctx -> {
            ArmRequest r = begin(ctx);
            Paging.render(ctx, vms.availableSizes(r.caller(), sub(ctx), group(ctx), name(ctx)), null, null);
        });
        routes.get(item + "/instanceView", ctx -> {
            ArmRequest r = begin(ctx);
            ctx.json(vms.instanceView(r.caller(), sub(ctx), group(ctx), name(ctx)));
        });
        routes.post(item + "/{action}", ctx -> {
            ArmRequest r = begin(ctx);
            VirtualMachines.Action action = VirtualMachines.Action.fromWire(ctx.pathParam("action")).orElseThrow(() ->
                    ArmException.notFound("NotFound", "Virtual machines have no action '" + ctx.pathParam("action")
                            + "'; use start, powerOff, deallocate or restart."));
            String location = location(ctx);
            String op = vms.act(r.caller(), sub(ctx), group(ctx), name(ctx), action);
            polling(ctx, op, location, 202);
        });
        routes.get(GROUP + COLLECTION, ctx -> {
            ArmRequest r = begin(ctx);
            Paging.renderPage(ctx, vms.list(r.caller(), sub(ctx), group(ctx)), "$top", PAGE_SIZE, PAGE_SIZE);
        });
        routes.get(SUBSCRIPTION + COLLECTION, ctx -> {
            ArmRequest r = begin(ctx);
            Paging.renderPage(ctx, vms.list(r.caller(), sub(ctx), null), "$top", PAGE_SIZE, PAGE_SIZE);
        });
    }

    private void accepted(Context ctx, VirtualMachines.Accepted accepted) {
        polling(ctx, accepted.operationId(), accepted.resource().path("location").asText(),
                accepted.created() ? 201 : 200);
        ctx.json(accepted.resource());
    }

    private void polling(Context ctx, String operationId, String location, int status) {
        Lro.accepted(ctx, operations.get(operationId).orElseThrow(), location, status);
    }

    /**
     * The VM's location, which names the polling URL; read before the action (a delete may finish first) and used
     * only once the action was authorised.
     */
    private String location(Context ctx) {
        String id = "/subscriptions/" + sub(ctx) + "/resourceGroups/" + group(ctx)
                + "/providers/Microsoft.Compute/virtualMachines/" + name(ctx);
        return vms.find(id).map(VirtualMachines.VmFacts::location).orElse("global");
    }
}
