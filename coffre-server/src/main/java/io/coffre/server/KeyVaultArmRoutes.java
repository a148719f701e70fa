package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Microsoft.KeyVault on the management host: vaults and managed HSMs (PUT/GET/PATCH/DELETE, lists, soft-deleted
 * stores and purge), vault access-policy edits and name availability. az sends {@code /resourcegroups/} in lower
 * case; the server's router matches case-insensitively.
 */
final class KeyVaultArmRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String PROVIDER = "/providers/Microsoft.KeyVault";
    private static final String GROUP = SUBSCRIPTION + "/resourceGroups/{resourceGroupName}";
    private static final Pattern API_VERSION = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?");

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

    KeyVaultArmRoutes(KeyService keys) {
        this.keys = keys;
    }

    @Override
    public void register(RoutesConfig routes) {
        for (StoreType type : StoreType.values()) {
            register(routes, type);
        }
        routes.put(GROUP + PROVIDER + "/vaults/{name}/accessPolicies/{operationKind}", ctx -> {
            Principal caller = begin(ctx);
            String operation = VaultPatches.accessPolicyOperation(ctx.pathParam("operationKind"));
            JsonNode body = body(ctx);
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
            JsonNode body = body(ctx);
            Store store = type.store(ctx.pathParam("name"));
            boolean exists = exists(caller, ctx, store);
            ObjectNode resource = keys.putStore(caller, subscription(ctx), group(ctx), store, body);
            respondProvisioned(ctx, exists ? 200 : 201, resource);
        });
        routes.get(item, ctx -> {
            Principal caller = begin(ctx);
            ctx.json(keys.getStore(caller, subscription(ctx), group(ctx), type.store(ctx.pathParam("name"))));
        });
        routes.patch(item, ctx -> {
            Principal caller = begin(ctx);
            JsonNode patch = body(ctx);
            Store store = type.store(ctx.pathParam("name"));
            ObjectNode current = keys.getStore(caller, subscription(ctx), group(ctx), store);
            ctx.json(keys.putStore(caller, subscription(ctx), group(ctx), store, VaultPatches.merge(current, patch)));
        });
        routes.delete(item, ctx -> {
            Principal caller = begin(ctx);
            keys.deleteStore(caller, subscription(ctx), group(ctx), type.store(ctx.pathParam("name")));
            respondDeleted(ctx);
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
            JsonNode body = body(ctx);
            String name = VaultPatches.nameToCheck(body, type.resourceType);
            boolean taken = isTaken(caller, subscription(ctx), type, name);
            ctx.json(VaultPatches.nameAvailability(type.kind, name, taken));
        });
    }

    /** Authenticates (management audience), then checks the api-version; the body is read only after both. */
    private static Principal begin(Context ctx) {
        if (CoffreServer.host(ctx).kind() != RequestHost.Kind.MANAGEMENT) {
            throw ArmException.notFound("NotFound", "No resource or operation at " + ctx.method() + " "
                    + ctx.path() + " on this host; Microsoft.KeyVault is served on the management host.");
        }
        Principal caller = Authn.principal(ctx);
        requireApiVersion(ctx);
        return caller;
    }

    // Until the arm branch's ApiVersions lands: presence and shape only.
    private static void requireApiVersion(Context ctx) {
        String version = ctx.queryParam("api-version");
        if (version == null || !API_VERSION.matcher(version).matches()) {
            throw ArmException.badRequest(version == null ? "MissingApiVersionParameter" : "InvalidApiVersionParameter",
                    "The api-version query parameter is " + (version == null ? "missing" : "'" + version + "'")
                            + "; Microsoft.KeyVault needs a version such as 2022-07-01 or 2023-07-01.");
        }
    }

    private static JsonNode body(Context ctx) {
        JsonNode body = Json.parse(ctx.body());
        if (!body.isObject()) {
            throw ArmException.badRequest("InvalidRequestContent", "The request body must be a JSON object.");
        }
        return body;
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

    // Until the arm branch's Lro lands: the store is provisioned synchronously, so the PUT completes at once.
    private static void respondProvisioned(Context ctx, int status, ObjectNode resource) {
        ctx.status(status).json(resource);
    }

    private static void respondDeleted(Context ctx) {
        ctx.status(200);
    }

    // Until the arm branch's Paging lands: the key service returns whole lists.
    private static void renderList(Context ctx, List<ObjectNode> items) {
        ObjectNode body = Json.object();
        body.putArray("value").addAll(items);
        ctx.json(body);
    }
}
