package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.audit.AuditLog;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /admin/audit?prefix=&top=} lists key-service audit entries, newest first;
 * {@code GET /admin/audit/verify} walks the hash chain and names the first break.
 */
final class AdminAuditRoutes implements RouteModule {
    private static final int DEFAULT_TOP = 100;
    private static final int MAX_TOP = 10_000;

    private final CoffreCore core;

    AdminAuditRoutes(CoffreCore core) {
        this.core = core;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/admin/audit", ctx -> {
            AdminAccess.require(ctx, core);
            String prefix = Optional.ofNullable(ctx.queryParam("prefix")).orElse("");
            int top = parseTop(ctx.queryParam("top"));
            ctx.json(Map.of("value", core.audit().list(prefix, top).stream().map(AdminAuditRoutes::render).toList()));
        });
        routes.get("/admin/audit/verify", ctx -> {
            AdminAccess.require(ctx, core);
            Optional<String> problem = core.audit().verify();
            ctx.json(problem.isEmpty() ? Json.object().put("intact", true)
                    : Json.object().put("intact", false).put("problem", problem.get()));
        });
    }

    private static int parseTop(String top) {
        if (top == null) {
            return DEFAULT_TOP;
        }
        try {
            int n = Integer.parseInt(top);
            if (n >= 1 && n <= MAX_TOP) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ArmException.badRequest("BadParameter", "top must be a number from 1 to " + MAX_TOP + "; got '" + top
                + "'.");
    }

    private static Map<String, Object> render(AuditLog.Entry e) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("sequence", e.sequence());
        m.put("time", java.time.Instant.ofEpochMilli(e.timeMillis()).toString());
        m.put("principalId", e.principalId());
        m.put("operation", e.operation());
        m.put("resource", e.resource());
        if (e.keyVersion() != null) {
            m.put("keyVersion", e.keyVersion());
        }
        m.put("allowed", e.allowed());
        if (e.detail() != null) {
            m.put("detail", e.detail());
        }
        m.put("hash", e.hash());
        return m;
    }
}
