package io.coffre.server;

import static io.coffre.server.ComputePaths.begin;
import static io.coffre.server.ComputePaths.sub;

import io.coffre.compute.vm.VmSizeCatalog;
import io.javalin.config.RoutesConfig;

/**
 * The VM sizes a region offers: {@code GET .../providers/Microsoft.Compute/locations/{location}/vmSizes} (what
 * {@code az vm list-sizes} reads) and {@code GET .../providers/Microsoft.Compute/skus} with an optional
 * {@code $filter=location eq '...'} ({@code az vm list-skus}; api-version 2021-07-01). Both answer in one page.
 */
final class VmSizeRoutes implements RouteModule {
    private static final String PROVIDER = "/subscriptions/{subscriptionId}/providers/Microsoft.Compute";

    private final VmSizeCatalog catalog;

    VmSizeRoutes(VmSizeCatalog catalog) {
        this.catalog = catalog;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get(PROVIDER + "/locations/{location}/vmSizes", ctx -> {
            ArmRequest r = begin(ctx);
            Paging.render(ctx, catalog.sizes(r.caller(), sub(ctx), ctx.pathParam("location")), null, null);
        });
        routes.get(PROVIDER + "/skus", ctx -> {
            ArmRequest r = begin(ctx);
            Paging.render(ctx, catalog.skus(r.caller(), sub(ctx), ctx.queryParam("$filter")), null, null);
        });
    }
}
