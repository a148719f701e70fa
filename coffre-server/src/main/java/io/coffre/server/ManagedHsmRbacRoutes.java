package io.coffre.server;

import io.coffre.keyvault.KeyService;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.function.Function;

/**
 * Managed HSM local RBAC (reference azure-rest-shapes §2) on {@code {name}.managedhsm.*} hosts:
 * {@code /{scope}/providers/Microsoft.Authorization/roleDefinitions|roleAssignments[/{name}]} with scope
 * {@code /}, {@code /keys} or {@code /keys/{keyName}}. Clients send scope {@code /} as a double slash
 * ({@code //providers/...}); the router collapses it.
 */
final class ManagedHsmRbacRoutes implements RouteModule {
    private static final String PROVIDER = "/providers/Microsoft.Authorization";

    private final KeyService keys;

    ManagedHsmRbacRoutes(KeyService keys) {
        this.keys = keys;
    }

    @Override
    public void register(RoutesConfig routes) {
        register(routes, "", ctx -> "/");
        register(routes, "/keys", ctx -> "/keys");
        register(routes, "/keys/{keyName}", ctx -> "/keys/" + ctx.pathParam("keyName"));
    }

    /** The eight operations at one scope; {@code scope} turns the matched path into the scope string. */
    private void register(RoutesConfig routes, String scopePrefix, Function<Context, String> scope) {
        String definitions = scopePrefix + PROVIDER + "/roleDefinitions";
        routes.get(definitions, ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            call.renderPage(keys.listRoleDefinitions(call.caller(), call.store(), scope.apply(ctx), filter(ctx)));
        });
        routes.get(definitions + "/{roleName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.json(keys.getRoleDefinition(call.caller(), call.store(), scope.apply(ctx), call.path("roleName")));
        });
        routes.put(definitions + "/{roleName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.status(201).json(keys.putRoleDefinition(call.caller(), call.store(), scope.apply(ctx),
                    call.path("roleName"), call.body()));
        });
        routes.delete(definitions + "/{roleName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.json(keys.deleteRoleDefinition(call.caller(), call.store(), scope.apply(ctx), call.path("roleName")));
        });

        String assignments = scopePrefix + PROVIDER + "/roleAssignments";
        routes.get(assignments, ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            call.renderPage(keys.listRoleAssignments(call.caller(), call.store(), scope.apply(ctx), filter(ctx)));
        });
        routes.get(assignments + "/{assignmentName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.json(keys.getRoleAssignment(call.caller(), call.store(), scope.apply(ctx),
                    call.path("assignmentName")));
        });
        routes.put(assignments + "/{assignmentName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.status(201).json(keys.putRoleAssignment(call.caller(), call.store(), scope.apply(ctx),
                    call.path("assignmentName"), call.body()));
        });
        routes.delete(assignments + "/{assignmentName}", ctx -> {
            KeyServiceCall call = KeyServiceCall.beginManagedHsm(ctx);
            ctx.json(keys.deleteRoleAssignment(call.caller(), call.store(), scope.apply(ctx),
                    call.path("assignmentName")));
        });
    }

    private static String filter(Context ctx) {
        return ctx.queryParam("$filter");
    }
}
