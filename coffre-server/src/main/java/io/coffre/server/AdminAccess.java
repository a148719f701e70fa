package io.coffre.server;

import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.identity.Principal;
import io.javalin.http.Context;

/**
 * The {@code /admin} endpoints (server clock, audit log) are for whoever administers the server: a caller allowed to
 * grant roles on the default subscription (Owner; the administrator principal is one from the first start).
 */
final class AdminAccess {
    static final String ADMIN_ACTION = "Microsoft.Authorization/roleAssignments/write";

    private AdminAccess() {
    }

    static Principal require(Context ctx, CoffreCore core) {
        if (CoffreServer.host(ctx).kind() != RequestHost.Kind.MANAGEMENT) {
            throw ArmException.notFound("NotFound", "No resource or operation at " + ctx.method() + " "
                    + ctx.path() + " on this host; /admin is served on the management host.");
        }
        Principal caller = Authn.principal(ctx);
        core.accessControl().require(caller,
                ResourceId.subscription(core.identity().defaultSubscriptionId()).toString(), ADMIN_ACTION, false);
        return caller;
    }
}
