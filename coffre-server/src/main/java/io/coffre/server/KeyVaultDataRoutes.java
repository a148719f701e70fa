package io.coffre.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.keyvault.KeyService;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Set;

/**
 * Key Vault / Managed HSM keys (reference azure-rest-shapes §1.2) on {@code {name}.vault.*} and
 * {@code {name}.managedhsm.*} hosts. Paths whose segments could collide ({@code /keys/restore} vs a key name,
 * {@code versions} and {@code rotationpolicy} vs a version id, {@code create} vs an operation) are dispatched here
 * explicitly rather than left to the router's tie-breaking. Trailing slashes ({@code GET /keys/k1/} = latest) and
 * letter case ({@code wrapKey}) are handled by the server's router settings.
 */
final class KeyVaultDataRoutes implements RouteModule {
    /** Operations addressed as {@code POST /keys/{name}[/{version}]/{operation}} (lower-cased). */
    private static final Set<String> KEY_OPERATIONS =
            Set.of("encrypt", "decrypt", "wrapkey", "unwrapkey", "sign", "verify", "release");

    private final KeyService keys;

    KeyVaultDataRoutes(KeyService keys) {
        this.keys = keys;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/keys", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            call.renderPage(keys.listKeys(call.caller(), call.store(), call.maxResults(), call.skipToken()));
        });
        routes.get("/keys/{name}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.getKey(call.caller(), call.store(), call.path("name"), null));
        });
        routes.get("/keys/{name}/{second}", this::getUnderKey);
        routes.put("/keys/{name}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.importKey(call.caller(), call.store(), call.path("name"), call.body()));
        });
        routes.put("/keys/{name}/rotationpolicy", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.putRotationPolicy(call.caller(), call.store(), call.path("name"), call.body()));
        });
        routes.patch("/keys/{name}", ctx -> update(ctx, null));
        routes.patch("/keys/{name}/{version}", ctx -> update(ctx, ctx.pathParam("version")));
        routes.delete("/keys/{name}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.deleteKey(call.caller(), call.store(), call.path("name")));
        });
        routes.post("/keys/restore", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.restoreKey(call.caller(), call.store(), call.body()));
        });
        routes.post("/keys/{name}/{action}", this::postOnKey);
        routes.post("/keys/{name}/{version}/{operation}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            keyOperation(call, call.path("version"), call.lowerPath("operation"));
        });

        routes.get("/deletedkeys", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            call.renderPage(keys.listDeletedKeys(call.caller(), call.store(), call.maxResults(), call.skipToken()));
        });
        routes.get("/deletedkeys/{name}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.getDeletedKey(call.caller(), call.store(), call.path("name")));
        });
        routes.post("/deletedkeys/{name}/recover", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            ctx.json(keys.recoverDeletedKey(call.caller(), call.store(), call.path("name")));
        });
        routes.delete("/deletedkeys/{name}", ctx -> {
            KeyServiceCall call = KeyServiceCall.begin(ctx);
            keys.purgeDeletedKey(call.caller(), call.store(), call.path("name"));
            ctx.status(204);
        });
    }

    /** {@code GET /keys/{name}/versions}, {@code /rotationpolicy} or {@code /{version}}. */
    private void getUnderKey(Context ctx) {
        KeyServiceCall call = KeyServiceCall.begin(ctx);
        String name = call.path("name");
        switch (call.lowerPath("second")) {
            case "versions" -> call.renderPage(
                    keys.listKeyVersions(call.caller(), call.store(), name, call.maxResults(), call.skipToken()));
            case "rotationpolicy" -> ctx.json(keys.getRotationPolicy(call.caller(), call.store(), name));
            default -> ctx.json(keys.getKey(call.caller(), call.store(), name, call.path("second")));
        }
    }

    private void update(Context ctx, String version) {
        KeyServiceCall call = KeyServiceCall.begin(ctx);
        ctx.json(keys.updateKey(call.caller(), call.store(), call.path("name"), version, call.body()));
    }

    /** {@code POST /keys/{name}/create|backup|rotate} or an operation on the latest version. */
    private void postOnKey(Context ctx) {
        KeyServiceCall call = KeyServiceCall.begin(ctx);
        String name = call.path("name");
        String action = call.lowerPath("action");
        ObjectNode result = switch (action) {
            case "create" -> keys.createKey(call.caller(), call.store(), name, call.body());
            case "backup" -> keys.backupKey(call.caller(), call.store(), name);
            case "rotate" -> keys.rotateKey(call.caller(), call.store(), name);
            default -> null;
        };
        if (result != null) {
            ctx.json(result);
        } else {
            keyOperation(call, null, action);
        }
    }

    private void keyOperation(KeyServiceCall call, String version, String operation) {
        if (!KEY_OPERATIONS.contains(operation)) {
            throw ArmException.notFound("NotFound", "No key operation '" + operation + "'; use one of encrypt, "
                    + "decrypt, wrapkey, unwrapkey, sign, verify, release.");
        }
        call.ctx().json(keys.keyOperation(call.caller(), call.store(), call.path("name"), version, operation,
                call.body()));
    }
}
