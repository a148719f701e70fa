package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.authorization.Authorization;
import io.coffre.authorization.RoleAssignment;
import io.coffre.authorization.RoleDefinition;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Microsoft.Authorization on the management host: {@code {scope}/providers/Microsoft.Authorization/roleAssignments}
 * and {@code roleDefinitions}, where {@code {scope}} is any ARM id from a subscription down to a key. (Managed HSM
 * local RBAC uses the same paths on HSM hosts and is served elsewhere.)
 */
final class AuthorizationRoutes implements RouteModule {
    private static final String PROVIDER = "/providers/Microsoft.Authorization";
    /** Everything between {@code /subscriptions/} and the provider segment: the rest of the scope. */
    private static final String SCOPE = "/subscriptions/<scope>" + PROVIDER;
    private static final String ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments";
    private static final String DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions";
    private static final Pattern AT_SCOPE = Pattern.compile("atScope\\(\\)", Pattern.CASE_INSENSITIVE);
    private static final Pattern PRINCIPAL = Pattern.compile(
            "(?:principalId\\s+eq\\s+'([^']+)'|assignedTo\\('([^']+)'\\))", Pattern.CASE_INSENSITIVE);
    private static final Pattern ROLE_NAME = Pattern.compile("roleName\\s+eq\\s+'([^']+)'", Pattern.CASE_INSENSITIVE);
    private static final Pattern ROLE_TYPE = Pattern.compile("type\\s+eq\\s+'([^']+)'", Pattern.CASE_INSENSITIVE);
    private static final Pattern AND = Pattern.compile("\\s+and\\s+", Pattern.CASE_INSENSITIVE);

    private final Authorization rbac;

    AuthorizationRoutes(CoffreCore core) {
        this.rbac = core.accessControl();
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.put(SCOPE + "/roleAssignments/{name}", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            JsonNode properties = req.body().path("properties");
            RoleAssignment a = rbac.createAssignment(req.caller(), scope(req), req.path("name"),
                    properties.path("roleDefinitionId").asText(null), properties.path("principalId").asText(null),
                    properties.path("principalType").asText(null), properties.path("description").asText(null));
            ctx.status(201).json(assignment(a));
        });
        routes.get(SCOPE + "/roleAssignments/{name}", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            ctx.json(assignment(rbac.getAssignment(req.caller(), scope(req), req.path("name"))));
        });
        routes.delete(SCOPE + "/roleAssignments/{name}", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            rbac.deleteAssignment(req.caller(), scope(req), req.path("name")).ifPresentOrElse(
                    a -> ctx.json(assignment(a)), () -> ctx.status(204));
        });
        routes.get(SCOPE + "/roleAssignments", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            AssignmentFilter filter = AssignmentFilter.parse(req.query("$filter"));
            List<ObjectNode> items = rbac.listAssignments(req.caller(), scope(req), filter.reach, filter.principalId)
                    .stream().map(AuthorizationRoutes::assignment).toList();
            Paging.render(ctx, items, null, Paging.SKIP_TOKEN);
        });
        routes.get(SCOPE + "/roleDefinitions", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            String scope = scope(req);
            List<ObjectNode> items = definitionsMatching(req, scope).stream()
                    .map(d -> definition(scope, d)).toList();
            Paging.render(ctx, items, null, Paging.SKIP_TOKEN);
        });
        routes.get(SCOPE + "/roleDefinitions/{id}", ctx -> {
            ArmRequest req = ArmRequest.begin(ctx, ApiVersions.AUTHORIZATION);
            String scope = scope(req);
            ctx.json(definition(scope, rbac.getRoleDefinition(req.caller(), scope, req.path("id"))));
        });
    }

    private static String scope(ArmRequest req) {
        return "/subscriptions/" + req.path("scope");
    }

    /** {@code $filter} of role assignment listings: {@code atScope()}, a principal, or both joined by {@code and}. */
    private record AssignmentFilter(Authorization.Reach reach, String principalId) {
        static AssignmentFilter parse(String filter) {
            Authorization.Reach reach = Authorization.Reach.ANYWHERE_ALONG;
            String principal = null;
            if (filter != null && !filter.isBlank()) {
                for (String clause : AND.split(filter.trim())) {
                    Matcher p = PRINCIPAL.matcher(clause.trim());
                    if (AT_SCOPE.matcher(clause.trim()).matches()) {
                        reach = Authorization.Reach.AT_OR_ABOVE;
                    } else if (p.matches()) {
                        principal = p.group(1) != null ? p.group(1) : p.group(2);
                    } else {
                        throw unsupported(filter, "atScope(), principalId eq '{id}' or assignedTo('{id}')");
                    }
                }
            }
            return new AssignmentFilter(reach, principal);
        }
    }

    private List<RoleDefinition> definitionsMatching(ArmRequest req, String scope) {
        String roleName = null;
        String type = null;
        String filter = req.query("$filter");
        if (filter != null && !filter.isBlank()) {
            for (String clause : AND.split(filter.trim())) {
                Matcher name = ROLE_NAME.matcher(clause.trim());
                Matcher t = ROLE_TYPE.matcher(clause.trim());
                if (name.matches()) {
                    roleName = name.group(1);
                } else if (t.matches()) {
                    type = t.group(1);
                } else {
                    throw unsupported(filter, "roleName eq '{name}' or type eq 'BuiltInRole|CustomRole'");
                }
            }
        }
        String wantedType = type;
        return rbac.listRoleDefinitions(req.caller(), scope, roleName).stream()
                .filter(d -> wantedType == null || d.roleType().equalsIgnoreCase(wantedType)).toList();
    }

    private static ArmException unsupported(String filter, String supported) {
        return ArmException.badRequest("UnsupportedQuery", "The filter '" + filter + "' is not supported. Supported"
                + " filters: " + supported + ".");
    }

    static ObjectNode assignment(RoleAssignment a) {
        ObjectNode n = Json.object();
        n.put("id", a.scope() + PROVIDER + "/roleAssignments/" + a.name());
        n.put("name", a.name());
        n.put("type", ASSIGNMENT_TYPE);
        ObjectNode p = n.putObject("properties");
        p.put("roleDefinitionId", definitionId(a.scope(), a.roleDefinitionId()));
        p.put("principalId", a.principalId());
        p.put("principalType", a.principalType());
        p.put("scope", a.scope());
        if (a.description() != null) {
            p.put("description", a.description());
        }
        p.put("createdOn", a.createdOn().toString());
        p.put("updatedOn", a.createdOn().toString());
        if (a.createdBy() != null) {
            p.put("createdBy", a.createdBy());
            p.put("updatedBy", a.createdBy());
        }
        return n;
    }

    private static ObjectNode definition(String scope, RoleDefinition d) {
        ObjectNode n = Json.object();
        n.put("id", definitionId(scope, d.id()));
        n.put("name", d.id());
        n.put("type", DEFINITION_TYPE);
        ObjectNode p = n.putObject("properties");
        p.put("roleName", d.roleName());
        p.put("type", d.roleType());
        p.put("description", d.description());
        p.putArray("assignableScopes").add("/");
        var permissions = p.putArray("permissions");
        for (RoleDefinition.Permission perm : d.permissions()) {
            ObjectNode pn = permissions.addObject();
            perm.actions().forEach(pn.putArray("actions")::add);
            perm.notActions().forEach(pn.putArray("notActions")::add);
            perm.dataActions().forEach(pn.putArray("dataActions")::add);
            perm.notDataActions().forEach(pn.putArray("notDataActions")::add);
        }
        return n;
    }

    /** Role definitions are addressed under the subscription of the scope they are used at, as ARM shows them. */
    private static String definitionId(String scope, String guid) {
        return "/subscriptions/" + ResourceId.parse(scope).subscriptionId() + PROVIDER + "/roleDefinitions/"
                + guid.toLowerCase(Locale.ROOT);
    }
}
