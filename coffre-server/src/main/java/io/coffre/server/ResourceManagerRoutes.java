package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.arm.IndexedResource;
import io.coffre.arm.ResourceManager;
import io.coffre.arm.Tags;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Microsoft.Resources: subscriptions, resource groups, resource listing and provider registration. */
final class ResourceManagerRoutes implements RouteModule {
    private static final String SUBSCRIPTION = "/subscriptions/{subscriptionId}";
    private static final String GROUP = SUBSCRIPTION + "/resourcegroups/{resourceGroupName}";
    private static final Pattern RESOURCE_TYPE_FILTER = Pattern.compile("\\s*resourceType\\s+eq\\s+'([^']+)'\\s*",
            Pattern.CASE_INSENSITIVE);
    private static final int DEFAULT_PAGE = 1000;
    private static final int MAX_PAGE = 1000;

    private final ResourceManager rm;

    ResourceManagerRoutes(CoffreCore core) {
        this.rm = core.resourceManager();
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/subscriptions", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            Paging.render(ctx, rm.listSubscriptions(req.caller()).stream().map(ResourceManagerRoutes::subscription).toList(), null,
                    Paging.SKIP_TOKEN);
        });
        routes.get(SUBSCRIPTION, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            ctx.json(subscription(rm.getSubscription(req.caller(), req.path("subscriptionId"))));
        });
        routes.get(SUBSCRIPTION + "/resourcegroups", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            List<ObjectNode> groups = rm.listResourceGroups(req.caller(), req.path("subscriptionId")).stream()
                    .map(ResourceManagerRoutes::group).toList();
            Paging.renderPage(ctx, groups, "$top", DEFAULT_PAGE, MAX_PAGE);
        });
        routes.put(GROUP, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            JsonNode body = req.body();
            ResourceManager.ResourceGroupPut put = rm.putResourceGroup(req.caller(), req.path("subscriptionId"),
                    req.path("resourceGroupName"), body.path("location").asText(null), Tags.parse(body.get("tags")));
            ctx.status(put.created() ? 201 : 200).json(group(put.group()));
        });
        routes.get(GROUP, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            ctx.json(group(rm.getResourceGroup(req.caller(), req.path("subscriptionId"),
                    req.path("resourceGroupName"))));
        });
        routes.head(GROUP, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            try {
                rm.getResourceGroup(req.caller(), req.path("subscriptionId"), req.path("resourceGroupName"));
                ctx.status(204);
            } catch (ArmException e) {
                if (e.status() != 404) {
                    throw e;
                }
                ctx.status(404);
            }
        });
        routes.delete(GROUP, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            rm.deleteResourceGroup(req.caller(), req.path("subscriptionId"), req.path("resourceGroupName"));
            ctx.status(200);
        });
        routes.get(SUBSCRIPTION + "/resources", ctx -> listResources(ctx, null));
        routes.get(GROUP + "/resources", ctx -> listResources(ctx, ctx.pathParam("resourceGroupName")));
        routes.get(SUBSCRIPTION + "/providers", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            String s = req.path("subscriptionId");
            Paging.render(ctx, rm.listProviders(req.caller(), s).stream().map(p -> provider(s, p)).toList(), null,
                    Paging.SKIP_TOKEN);
        });
        routes.get(SUBSCRIPTION + "/providers/{namespace}", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            String s = req.path("subscriptionId");
            ctx.json(provider(s, rm.getProvider(req.caller(), s, req.path("namespace"))));
        });
        routes.post(SUBSCRIPTION + "/providers/{namespace}/register", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
            String s = req.path("subscriptionId");
            ctx.json(provider(s, rm.registerProvider(req.caller(), s, req.path("namespace"))));
        });
    }

    private void listResources(Context ctx, String resourceGroupOrNull) {
        ArmRequest req = ArmRequest.begin(ctx, ApiVersions.RESOURCES);
        String type = resourceTypeFilter(req.query("$filter"));
        List<ObjectNode> resources = rm.listResources(req.caller(), req.path("subscriptionId"), resourceGroupOrNull,
                type).stream().map(ResourceManagerRoutes::resource).toList();
        Paging.renderPage(ctx, resources, "$top", DEFAULT_PAGE, MAX_PAGE);
    }

    /** The one filter clients of this listing send: {@code resourceType eq '<namespace>/<type>'}. */
    private static String resourceTypeFilter(String filter) {
        if (filter == null || filter.isBlank()) {
            return null;
        }
        Matcher m = RESOURCE_TYPE_FILTER.matcher(filter);
        if (!m.matches()) {
            throw ArmException.badRequest("UnsupportedQuery", "The $filter '" + filter + "' is not supported; use"
                    + " resourceType eq '<namespace>/<type>' (e.g. resourceType eq 'Microsoft.KeyVault/vaults').");
        }
        return m.group(1);
    }

    private static ObjectNode subscription(ResourceManager.Subscription s) {
        ObjectNode n = Json.object();
        n.put("id", s.id());
        n.put("authorizationSource", "RoleBased");
        n.putArray("managedByTenants");
        n.put("subscriptionId", s.subscriptionId());
        n.put("tenantId", s.tenantId());
        n.put("displayName", s.displayName());
        n.put("state", "Enabled");
        ObjectNode policies = n.putObject("subscriptionPolicies");
        policies.put("locationPlacementId", "Public_2014-09-01");
        policies.put("quotaId", "PayAsYouGo_2014-09-01");
        policies.put("spendingLimit", "Off");
        return n;
    }

    private static ObjectNode group(ResourceManager.ResourceGroup g) {
        ObjectNode n = Json.object();
        n.put("id", g.id());
        n.put("name", g.name());
        n.put("type", "Microsoft.Resources/resourceGroups");
        n.put("location", g.location());
        if (!g.tags().isEmpty()) {
            n.set("tags", Tags.toJson(g.tags()));
        }
        n.putObject("properties").put("provisioningState", "Succeeded");
        return n;
    }

    private static ObjectNode resource(IndexedResource r) {
        ObjectNode n = Json.object();
        n.put("id", r.id());
        n.put("name", r.name());
        n.put("type", r.type());
        if (r.location() != null) {
            n.put("location", r.location());
        }
        Map<String, String> tags = Tags.fromStored(r.tagsJson());
        if (!tags.isEmpty()) {
            n.set("tags", Tags.toJson(tags));
        }
        return n;
    }

    private static ObjectNode provider(String subscriptionId, ResourceManager.ResourceProvider p) {
        ObjectNode n = Json.object();
        n.put("id", "/subscriptions/" + subscriptionId + "/providers/" + p.namespace());
        n.put("namespace", p.namespace());
        n.put("registrationState", "Registered");
        n.put("registrationPolicy", "RegistrationRequired");
        ArrayNode types = n.putArray("resourceTypes");
        List<String> versions = ApiVersions.isRegistered(p.namespace()) ? ApiVersions.supported(p.namespace())
                : List.of();
        for (String type : p.resourceTypes()) {
            ObjectNode t = types.addObject();
            t.put("resourceType", type);
            t.putArray("locations");
            ArrayNode apiVersions = t.putArray("apiVersions");
            versions.forEach(apiVersions::add);
        }
        return n;
    }
}
