package io.coffre.server;

import io.coffre.CoffreCore;
import io.javalin.config.RoutesConfig;
import java.util.Map;

/** {@code GET /health}: 200 when the metadata store answers. */
final class HealthRoutes implements RouteModule {
    private final CoffreCore core;

    HealthRoutes(CoffreCore core) {
        this.core = core;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/health", ctx -> {
            int tables = core.metadata().tables().size();
            ctx.json(Map.of("status", "Healthy", "tables", tables));
        });
    }
}
