package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.time.ManualClock;
import io.javalin.config.RoutesConfig;
import java.time.Duration;
import java.time.format.DateTimeParseException;

/**
 * {@code GET /admin/clock} → {@code {"now","manual"}} and {@code POST /admin/clock/advance {"duration":"P1D"}} →
 * {@code {"now"}}: lets demos and tests move server time (rotation policies, retention, schedules) on a server
 * started with {@code --manual-clock}. Management host only.
 */
final class AdminClockRoutes implements RouteModule {
    private final CoffreCore core;

    AdminClockRoutes(CoffreCore core) {
        this.core = core;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/admin/clock", ctx -> {
            AdminAccess.require(ctx, core);
            ctx.json(Json.object().put("now", core.clock().now().toString())
                    .put("manual", core.clock() instanceof ManualClock));
        });
        routes.post("/admin/clock/advance", ctx -> {
            AdminAccess.require(ctx, core);
            ManualClock clock = manualClock();
            Duration by = parseDuration(Json.parse(ctx.body()).path("duration").asText(null));
            ctx.json(Json.object().put("now", clock.advance(by).toString()));
        });
    }

    private ManualClock manualClock() {
        if (core.clock() instanceof ManualClock manual) {
            return manual;
        }
        throw ArmException.badRequest("ClockNotManual",
                "This server follows the system clock. Restart it with --manual-clock to move time forward.");
    }

    static Duration parseDuration(String text) {
        if (text == null || text.isBlank()) {
            throw ArmException.badRequest("BadParameter",
                    "The field 'duration' is required: an ISO-8601 duration such as P30D or PT2H.");
        }
        Duration by;
        try {
            by = Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw ArmException.badRequest("BadParameter", "'" + text + "' is not an ISO-8601 duration in days, "
                    + "hours, minutes or seconds (months and years vary in length): use e.g. P30D or PT2H.");
        }
        if (by.isNegative()) {
            throw ArmException.badRequest("BadParameter",
                    "The clock only moves forward; '" + text + "' is negative.");
        }
        return by;
    }
}
