package io.coffre.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.features.Features;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

/** Microsoft.Features (AFEC): register, unregister, show and list preview features and subscription flags. */
final class FeatureRoutes implements RouteModule {
    private static final String FEATURES = "/subscriptions/{subscriptionId}/providers/Microsoft.Features";
    private static final String FEATURE = FEATURES + "/providers/{namespace}/features/{name}";

    private final Features features;

    FeatureRoutes(CoffreCore core) {
        this.features = core.features();
    }

    @Override
    public void register(RoutesConfig routes) {
        // Register and unregister are synchronous (no LRO): clients poll GET until the state settles.
        routes.post(FEATURE + "/register", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.FEATURES);
            ctx.json(feature(features.register(req.caller(), req.path("subscriptionId"), req.path("namespace"),
                    req.path("name"))));
        });
        routes.post(FEATURE + "/unregister", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.FEATURES);
            ctx.json(feature(features.unregister(req.caller(), req.path("subscriptionId"), req.path("namespace"),
                    req.path("name"))));
        });
        routes.get(FEATURE, ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.FEATURES);
            ctx.json(feature(features.get(req.caller(), req.path("subscriptionId"), req.path("namespace"),
                    req.path("name"))));
        });
        routes.get(FEATURES + "/providers/{namespace}/features", ctx -> list(ctx, ctx.pathParam("namespace")));
        routes.get(FEATURES + "/features", ctx -> list(ctx, null));
    }

    private void list(Context ctx, String namespaceOrNull) {
        ArmRequest req = ArmRequest.begin(ctx, ApiVersions.FEATURES);
        Paging.render(ctx, features.list(req.caller(), req.path("subscriptionId"), namespaceOrNull).stream()
                .map(FeatureRoutes::feature).toList(), null, Paging.SKIP_TOKEN);
    }

    /** The wire's {@code FeatureResult}. */
    private static ObjectNode feature(Features.Feature f) {
        ObjectNode n = Json.object();
        n.put("id", f.id());
        n.put("name", f.fullName());
        n.put("type", "Microsoft.Features/providers/features");
        n.putObject("properties").put("state", f.state().name());
        return n;
    }
}
