package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Graph-shaped directory on the management host ({@code /v1.0/servicePrincipals}): what {@code az} reads for
 * self-permissions and what the CLI uses to create service principals. Reads need any signed-in caller; changes
 * need a directory writer.
 */
final class DirectoryRoutes implements RouteModule {
    private static final String QUOTED = "'((?:[^']|'')*)'";
    private static final Pattern PROPERTY_FILTER =
            Pattern.compile("^\\s*(appId|displayName)\\s+eq\\s+" + QUOTED + "\\s*$", Pattern.CASE_INSENSITIVE);
    private static final Pattern NAME_FILTER = Pattern.compile(
            "^\\s*servicePrincipalNames/any\\((\\w+):\\s*\\1\\s+eq\\s+" + QUOTED + "\\)\\s*$",
            Pattern.CASE_INSENSITIVE);

    private final Identity identity;
    private final String graphBase;

    DirectoryRoutes(CoffreCore core) {
        this.identity = core.identity();
        this.graphBase = core.endpoints().graphResource();
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/v1.0/me", management(ctx -> {
            Authn.principal(ctx);
            throw ArmException.badRequest("BadRequest",
                    "/me request is only valid with delegated authentication flow; Coffre tokens are app tokens."
                            + " Look the caller up with /v1.0/servicePrincipals?$filter=appId eq '<client id>'.");
        }));
        routes.get("/v1.0/servicePrincipals", management(this::list));
        routes.post("/v1.0/servicePrincipals", management(this::create));
        routes.get("/v1.0/servicePrincipals/{id}", management(ctx -> {
            Authn.principal(ctx);
            ctx.json(toGraph(require(ctx.pathParam("id"))));
        }));
        routes.delete("/v1.0/servicePrincipals/{id}", management(ctx -> {
            requireDirectoryWriter(Authn.principal(ctx));
            identity.deletePrincipal(require(ctx.pathParam("id")).objectId());
            ctx.status(204);
        }));
        routes.post("/v1.0/servicePrincipals/{id}/addPassword", management(ctx -> {
            requireDirectoryWriter(Authn.principal(ctx));
            Identity.Credentials credentials = identity.resetSecret(require(ctx.pathParam("id")).objectId());
            ctx.json(passwordCredential(credentials));
        }));
    }

    private static Handler management(Handler handler) {
        return Hosts.only(RequestHost.Kind.MANAGEMENT, handler);
    }

    /**
     * Who may create, delete or re-key service principals: for now only the Coffre administrator. Once ARM RBAC
     * exists, Owner at the default subscription belongs here too.
     */
    private void requireDirectoryWriter(Principal caller) {
        if (!caller.objectId().equals(identity.admin().objectId())) {
            throw new ArmException(403, "Authorization_RequestDenied", "Insufficient privileges to complete the"
                    + " operation: only the Coffre administrator (" + identity.admin().appId() + ") may create,"
                    + " delete or add passwords to service principals.");
        }
    }

    private void list(Context ctx) {
        Authn.principal(ctx);
        String filter = ctx.queryParam("$filter");
        List<Principal> found;
        if (filter == null || filter.isBlank()) {
            found = identity.list(null);
        } else {
            Matcher property = PROPERTY_FILTER.matcher(filter);
            Matcher name = NAME_FILTER.matcher(filter);
            if (property.matches() && property.group(1).equalsIgnoreCase("displayName")) {
                found = identity.list(unquote(property.group(2)));
            } else if (property.matches()) {
                found = byAppId(unquote(property.group(2)));
            } else if (name.matches()) {
                // A service principal's only name is its appId.
                found = byAppId(unquote(name.group(2)));
            } else {
                throw ArmException.badRequest("Request_UnsupportedQuery", "Unsupported $filter '" + filter
                        + "'. Use appId eq '<id>', displayName eq '<name>' or servicePrincipalNames/any(c:c eq"
                        + " '<appId>').");
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("@odata.context", graphBase + "/v1.0/$metadata#servicePrincipals");
        body.put("value", found.stream().filter(p -> p.type() != Principal.Type.User).map(this::toGraph).toList());
        ctx.json(body);
    }

    private List<Principal> byAppId(String appId) {
        return identity.find(appId).filter(p -> appId.equalsIgnoreCase(p.appId())).stream().toList();
    }

    private static String unquote(String odataString) {
        return odataString.replace("''", "'");
    }

    private void create(Context ctx) {
        requireDirectoryWriter(Authn.principal(ctx));
        JsonNode body = Json.parse(ctx.body());
        JsonNode displayName = body.path("displayName");
        if (!displayName.isTextual()) {
            throw ArmException.badRequest("Request_BadRequest",
                    "The body must name the service principal: {\"displayName\":\"<name>\"}.");
        }
        Identity.Credentials credentials = identity.createServicePrincipal(displayName.asText());
        Map<String, Object> created = toGraph(credentials.principal());
        created.put("passwordCredentials", List.of(passwordCredential(credentials)));
        ctx.status(201).json(created);
    }

    private Principal require(String idOrAppId) {
        Optional<Principal> found = identity.find(idOrAppId).filter(p -> p.type() != Principal.Type.User);
        return found.orElseThrow(() -> ArmException.notFound("Request_ResourceNotFound", "Resource '" + idOrAppId
                + "' does not exist or one of its queried reference-property objects are not present."));
    }

    private Map<String, Object> toGraph(Principal p) {
        Map<String, Object> graph = new LinkedHashMap<>();
        graph.put("id", p.objectId());
        graph.put("appId", p.appId());
        graph.put("displayName", p.displayName());
        graph.put("servicePrincipalType",
                p.type() == Principal.Type.ManagedIdentity ? "ManagedIdentity" : "Application");
        graph.put("servicePrincipalNames", List.of(p.appId()));
        graph.put("accountEnabled", true);
        return graph;
    }

    /** Graph's passwordCredential; the secret text appears only in this response. */
    private static Map<String, Object> passwordCredential(Identity.Credentials credentials) {
        Map<String, Object> password = new LinkedHashMap<>();
        password.put("keyId", credentials.keyId());
        password.put("secretText", credentials.clientSecret());
        password.put("hint", credentials.clientSecret().substring(0, 3));
        return password;
    }
}
