package io.coffre.server;

import io.coffre.arm.ArmException;
import io.javalin.http.Context;
import io.javalin.http.Handler;

/** Helpers for routes that belong to one kind of host and for documents that name the request's own address. */
final class Hosts {
    private Hosts() {
    }

    /** {@code handler} on hosts of {@code kind}; elsewhere the path does not exist (404, as for any unknown path). */
    static Handler only(RequestHost.Kind kind, Handler handler) {
        return ctx -> {
            if (CoffreServer.host(ctx).kind() != kind) {
                throw ArmException.notFound("NotFound", "No resource or operation at " + ctx.method() + " "
                        + ctx.path() + " on this host.");
            }
            handler.handle(ctx);
        };
    }

    /** {@code https://{Host header}}: discovery documents point back at the name and port the client used. */
    static String baseUrl(Context ctx) {
        String host = ctx.header("Host");
        return "https://" + (host == null || host.isBlank()
                ? ctx.req().getServerName() + ":" + ctx.req().getServerPort() : host);
    }
}
