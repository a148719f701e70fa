package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.AsyncOperations;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;

/**
 * Microsoft.KeyVault on the management host: vaults and managed HSMs (PUT/GET/PATCH/DELETE, lists, soft-deleted
 * stores and purge), vault access-policy edits and name availability. az sends {@code /resourcegroups/} in lower
 * case; the server's router matches case-insensitively.
 */
final class KeyVaultArmRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String PROVIDER = "/providers/Microsoft.KeyVault";
    private static final String GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}";
    private static final int PAGE_SIZE = 1000;

    /** The two store types, their ARM collection names and the name of their soft-deleted collection. */
    private enum StoreType {
        VAULTS(Store.Kind.VAULT, "vaults", "deletedVaults", "checkNameAvailability", "Microsoft.KeyVault/vaults"),
        MANAGED_HSMS(Store.Kind.MANAGED_HSM, "managedHSMs", "deletedManagedHSMs", "checkMhsmNameAvailability",
                "Microsoft.KeyVault/managedHSMs");

        final Store.Kind kind;
        final String collection;
        final String deletedCollection;
        final String checkNameAction;
        final String resourceType;

        StoreType(Store.Kind kind, String collection, String deletedCollection, String checkNameAction,
                  String resourceType) {
            this.kind = kind;
            this.collection = collection;
            this.deletedCollection = deletedCollection;
            this.checkNameAction = checkNameAction;
            this.resourceType = resourceType;
        }

        Store store(String name) {
            return new Store(kind, name);
        }
    }

    private final KeyService keys;
    private final AsyncOperations operations;

    KeyVaultArmRoutes(KeyService keys, AsyncOperations operations) {
        this.keys = keys;
        this.operations = operations;
    }

    @Override
    public void register(RoutesConfig routes) {
        for (StoreType type : StoreType.values()) {
            register(routes, type);
        }
        routes.put(GROUP + PROVIDER + "/vaults/{name}/accessPolicies/{operationKind}", ctx -> {
            Principal caller = begin(ctx);
            String operation = VaultPatches.accessPolicyOperation(ctx.pathParam("operationKind"));
            JsonNode body = ArmRequest.objectBody(ctx);
            Store store = Store.vault(ctx.pathParam("name"));
            ObjectNode vault = keys.getStore(caller, subscription(ctx), group(ctx), store);
            keys.putStore(caller, subscription(ctx), group(ctx), store,
                    VaultPatches.editAccessPolicies(vault, operation, body));
            ctx.json(VaultPatches.accessPolicyResult(vault.path("id").asText(), operation, body));
        });
    }

    private void register(RoutesConfig routes, StoreType type) {
        String item = GROUP + PROVIDER + "/" + type.collection + "/{name}";
        routes.put(item, ctx -> {
            Principal caller = begin(ctx);
            JsonNode body = ArmRequest.objectBody(ctx);
            Store store = type.store(ctx.pathParam("name"));
            int status = exists(caller, ctx, store) ? 200 : 201;
            ObjectNode resource = keys.putStore(caller, subscription(ctx), group(ctx), store, body);
            if (type == StoreType.MANAGED_HSMS) {
                respondAsync(ctx, resource, "write", status, Json.write(resource));
            } else {
                ctx.status(status);
            }
            ctx.json(resource);
        });
        routes.get(item, ctx -> {
            Principal caller = begin(ctx);
            ctx.json(keys.getStore(caller, subscription(ctx), group(ctx), type.store(ctx.pathParam("name"))));
        });
        routes.patch(item, ctx -> {
            Principal caller = begin(ctx);
            JsonNode patch = ArmRequest.objectBody(ctx);
            Store store = type.store(ctx.pathParam("name"));
            ObjectNode current = keys.getStore(caller, subscription(ctx), group(ctx), store);
            ctx.json(keys.putStore(caller, subscription(ctx), group(ctx), store, VaultPatches.merge(current, patch)));
        });
        routes.delete(item, ctx -> {
            Principal caller = begin(ctx);
            Store store = type.store(ctx.pathParam("name"));
            ObjectNode resource = keys.getStore(caller, subscription(ctx), group(ctx), store);
            keys.deleteStore(caller, subscription(ctx), group(ctx), store);
            if (type == StoreType.MANAGED_HSMS) {
                respondAsync(ctx, resource, "delete", 202, null);
            }
        });
        routes.get(GROUP + PROVIDER + "/" + type.collection, ctx -> {
            Principal caller = begin(ctx);
            renderList(ctx, keys.listStores(caller, subscription(ctx), group(ctx), type.kind));
        });
        routes.get(SUBSCRIPTION + PROVIDER + "/" + type.collection, ctx -> {
            Principal caller = begin(ctx);
            renderList(ctx, keys.listStores(caller, subscription(ctx), null, type.kind));
        });
        routes.get(SUBSCRIPTION + PROVIDER + "/" + type.deletedCollection, ctx -> {
            Principal caller = begin(ctx);
            renderList(ctx, keys.listDeletedStores(caller, subscription(ctx), type.kind));
        });
        String deleted = SUBSCRIPTION + PROVIDER + "/locations/{location}/" + type.deletedCollection + "/{name}";
        routes.get(deleted, ctx -> {
            Principal caller = begin(ctx);
            ctx.json(keys.getDeletedStore(caller, subscription(ctx), ctx.pathParam("location"),
                    type.store(ctx.pathParam("name"))));
        });
        routes.post(deleted + "/purge", ctx -> {
            Principal caller = begin(ctx);
            keys.purgeDeletedStore(caller, subscription(ctx), ctx.pathParam("location"),
                    type.store(ctx.pathParam("name")));
            ctx.status(200);
        });
        routes.post(SUBSCRIPTION + PROVIDER + "/" + type.checkNameAction, ctx -> {
            Principal caller = begin(ctx);
            JsonNode body = ArmRequest.objectBody(ctx);
            String name = VaultPatches.nameToCheck(body, type.resourceType);
            boolean taken = isTaken(caller, subscription(ctx), type, name);
            ctx.json(VaultPatches.nameAvailability(type.kind, name, taken));
        });
    }

    /** Management host, then the caller (management audience), then the api-version; the body only after. */
    private static Principal begin(Context ctx) {
        return ArmRequest.begin(ctx, ApiVersions.KEY_VAULT).caller();
    }

    private static String subscription(Context ctx) {
        return ctx.pathParam("subscriptionId");
    }

    private static String group(Context ctx) {
        return ctx.pathParam("resourceGroupName");
    }

    private boolean exists(Principal caller, Context ctx, Store store) {
        try {
            keys.getStore(caller, subscription(ctx), group(ctx), store);
            return true;
        } catch (ArmException e) {
            if (e.status() == 404) {
                return false;
            }
            throw e;
        }
    }

    /** Names are one namespace per kind (they are DNS labels), soft-deleted stores keep theirs until purged. */
    private boolean isTaken(Principal caller, String subscription, StoreType type, String name) {
        return keys.listStores(caller, subscription, null, type.kind).stream()
                .anyMatch(s -> name.equalsIgnoreCase(s.path("name").asText()))
                || keys.listDeletedStores(caller, subscription, type.kind).stream()
                .anyMatch(s -> name.equalsIgnoreCase(s.path("name").asText()));
    }

    /**
     * Managed HSM PUT and DELETE are long-running in Azure and clients poll them. Coffre provisions at once, so the
     * answer carries the polling headers of an operation that has already succeeded.
     */
    private void respondAsync(Context ctx, ObjectNode resource, String verb, int status, String result) {
        AsyncOperations.Operation op = operations.start(resource.path("id").asText(),
                StoreType.MANAGED_HSMS.resourceType + "/" + verb);
        operations.succeed(op.id(), result);
        Lro.accepted(ctx, op, resource.path("location").asText(), status);
    }

    /** The key service returns whole lists; ARM clients follow nextLink when lists are long. */
    private static void renderList(Context ctx, List<ObjectNode> items) {
        Paging.renderPage(ctx, items, "$top", PAGE_SIZE, PAGE_SIZE);
    }
}
