package io.coffre.authorization;

import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import io.coffre.time.CoffreClock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jdbi.v3.core.Handle;

/** Role assignments in table {@code role_assignments}, checked against the built-in role definitions. */
final class RbacAuthorization implements Authorization {
    private static final String GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    private static final Pattern GUID_ONLY = Pattern.compile(GUID);
    private static final Pattern ROLE_DEFINITION_ID = Pattern.compile(
            "(?:/subscriptions/[^/]+)?/providers/Microsoft\\.Authorization/roleDefinitions/(" + GUID + ")",
            Pattern.CASE_INSENSITIVE);
    private static final Set<String> PRINCIPAL_TYPES = Set.of("User", "Group", "ServicePrincipal", "ForeignGroup",
            "Device");

    private final MetadataStore metadata;
    private final Identity identity;
    private final Consumer<ResourceId> requireScope;
    private final CoffreClock clock;
    private final Map<String, CompiledRole> roles = new LinkedHashMap<>();

    /** A permission block with its patterns compiled. */
    private record CompiledPermission(ActionPattern actions, ActionPattern notActions, ActionPattern dataActions,
                                      ActionPattern notDataActions) {
        boolean allows(String action, boolean dataAction) {
            return dataAction ? dataActions.matches(action) && !notDataActions.matches(action)
                    : actions.matches(action) && !notActions.matches(action);
        }
    }

    private record CompiledRole(RoleDefinition definition, List<CompiledPermission> permissions) {
        boolean allows(String action, boolean dataAction) {
            return permissions.stream().anyMatch(p -> p.allows(action, dataAction));
        }
    }

    /** One of the caller's assignments, ready to evaluate. */
    private record Held(ResourceId scope, CompiledRole role) {
    }

    RbacAuthorization(MetadataStore metadata, Identity identity, Consumer<ResourceId> requireScope, CoffreClock clock) {
        this.metadata = metadata;
        this.identity = identity;
        this.requireScope = requireScope;
        this.clock = clock;
        for (RoleDefinition r : BuiltInRoles.all()) {
            roles.put(r.id(), new CompiledRole(r, r.permissions().stream().map(p -> new CompiledPermission(
                    ActionPattern.of(p.actions()), ActionPattern.of(p.notActions()), ActionPattern.of(p.dataActions()),
                    ActionPattern.of(p.notDataActions()))).toList()));
        }
        grantBySystem(ResourceId.subscription(identity.defaultSubscriptionId()).toString(), BuiltInRoles.OWNER,
                identity.admin().objectId());
    }

    // ---- checks ----

    @Override
    public Grants grantsOf(Principal principal) {
        List<Held> held = new ArrayList<>();
        for (RoleAssignment a : assignmentsOf(principal.objectId())) {
            CompiledRole role = roles.get(a.roleDefinitionId());
            ResourceId scope = parseOrNull(a.scope());
            if (role != null && scope != null) {
                held.add(new Held(scope, role));
            }
        }
        return new Grants() {
            @Override
            public boolean allows(String scope, String action, boolean dataAction) {
                ResourceId target = parseOrNull(scope);
                return target != null && held.stream()
                        .anyMatch(h -> h.scope.covers(target) && h.role.allows(action, dataAction));
            }

            @Override
            public boolean reaches(String scope) {
                ResourceId target = parseOrNull(scope);
                return target != null && held.stream().anyMatch(h -> h.scope.covers(target) || target.covers(h.scope));
            }
        };
    }

    // ---- role assignments ----

    @Override
    public RoleAssignment createAssignment(Principal caller, String scope, String name, String roleDefinitionId,
                                           String principalId, String principalTypeOrNull, String descriptionOrNull) {
        String assignmentName = requireAssignmentName(name);
        ResourceId at = ResourceId.parse(scope);
        require(caller, at.toString(), WRITE_ASSIGNMENTS, false);
        requireScope.accept(at);
        RoleAssignment wanted = newAssignment(assignmentName, at, roleDefinitionId, principalId, principalTypeOrNull,
                descriptionOrNull, caller.objectId());
        return insertOrMatch(wanted);
    }

    @Override
    public RoleAssignment getAssignment(Principal caller, String scope, String name) {
        ResourceId at = ResourceId.parse(scope);
        require(caller, at.toString(), READ_ASSIGNMENTS, false);
        return findAt(at, name).orElseThrow(() -> ArmException.notFound("RoleAssignmentNotFound",
                "The role assignment '" + name + "' is not found at scope '" + at + "'."));
    }

    @Override
    public Optional<RoleAssignment> deleteAssignment(Principal caller, String scope, String name) {
        ResourceId at = ResourceId.parse(scope);
        require(caller, at.toString(), DELETE_ASSIGNMENTS, false);
        Optional<RoleAssignment> existing = findAt(at, name);
        existing.ifPresent(a -> metadata.withHandle(h -> h.createUpdate("DELETE FROM role_assignments WHERE name = :n")
                .bind("n", a.name()).execute()));
        return existing;
    }

    @Override
    public List<RoleAssignment> listAssignments(Principal caller, String scope, Reach reach, String principalIdOrNull) {
        ResourceId at = ResourceId.parse(scope);
        require(caller, at.toString(), READ_ASSIGNMENTS, false);
        requireScope.accept(at);
        List<RoleAssignment> all = principalIdOrNull == null
                ? metadata.withHandle(h -> h.createQuery("SELECT * FROM role_assignments ORDER BY created_at, name")
                        .map((rs, ctx) -> toAssignment(rs)).list())
                : assignmentsOf(principalIdOrNull);
        return all.stream().filter(a -> {
            ResourceId held = parseOrNull(a.scope());
            return held != null && (held.covers(at) || (reach == Reach.ANYWHERE_ALONG && at.covers(held)));
        }).toList();
    }

    @Override
    public RoleAssignment grantBySystem(String scope, String roleDefinitionId, String principalId) {
        ResourceId at = ResourceId.parse(scope);
        RoleDefinition role = roleDefinition(roleDefinitionId);
        Optional<RoleAssignment> existing = metadata.withHandle(h -> findTriple(h, at, role.id(), principalId));
        return existing.orElseGet(() -> insertOrMatch(newAssignment(UUID.randomUUID().toString(), at, role.id(),
                principalId, null, null, null)));
    }

    /** Validates an assignment's parts against the directory and the role definitions. */
    private RoleAssignment newAssignment(String name, ResourceId at, String roleDefinitionId, String principalId,
                                         String principalTypeOrNull, String description, String createdBy) {
        RoleDefinition role = roleDefinition(roleDefinitionId);
        Principal principal = identity.find(principalId)
                .filter(p -> p.objectId().equalsIgnoreCase(principalId))
                .orElseThrow(() -> ArmException.badRequest("PrincipalNotFound", "Principal " + principalId
                        + " does not exist in the directory " + identity.tenantId() + ". Check that you have the"
                        + " correct principal ID: the object id of a user or service principal, not an application"
                        + " (client) id."));
        String actualType = principal.type() == Principal.Type.User ? "User" : "ServicePrincipal";
        if (principalTypeOrNull != null) {
            if (!PRINCIPAL_TYPES.contains(principalTypeOrNull)) {
                throw ArmException.badRequest("InvalidPrincipalType", "The principalType '" + principalTypeOrNull
                        + "' is not one of " + String.join(", ", PRINCIPAL_TYPES) + ".");
            }
            if (!principalTypeOrNull.equals(actualType)) {
                throw ArmException.badRequest("UnmatchedPrincipalType", "The PrincipalType in the role assignment"
                        + " request ('" + principalTypeOrNull + "') does not match the principal's actual type ('"
                        + actualType + "'); send '" + actualType + "' or leave principalType out.");
            }
        }
        return new RoleAssignment(name.toLowerCase(Locale.ROOT), at.toString(), role.id(),
                principal.objectId().toLowerCase(Locale.ROOT), actualType, description,
                clock.now().truncatedTo(ChronoUnit.MILLIS), createdBy);
    }

    /** Inserts {@code wanted}, or returns the identical assignment already there; anything else collides. */
    private RoleAssignment insertOrMatch(RoleAssignment wanted) {
        ResourceId at = ResourceId.parse(wanted.scope());
        try {
            return metadata.inTransaction(h -> {
                Optional<RoleAssignment> sameName = findByName(h, wanted.name());
                if (sameName.isPresent()) {
                    return requireSameAssignment(sameName.get(), wanted);
                }
                if (findTriple(h, at, wanted.roleDefinitionId(), wanted.principalId()).isPresent()) {
                    throw assignmentExists();
                }
                h.createUpdate("INSERT INTO role_assignments (name, scope, scope_lower, role_definition_id,"
                                + " principal_id, principal_type, description, created_at, created_by) VALUES (:name,"
                                + " :scope, :scopeLower, :role, :principal, :type, :description, :createdAt,"
                                + " :createdBy)")
                        .bind("name", wanted.name()).bind("scope", wanted.scope()).bind("scopeLower", lower(at))
                        .bind("role", wanted.roleDefinitionId()).bind("principal", wanted.principalId())
                        .bind("type", wanted.principalType()).bind("description", wanted.description())
                        .bind("createdAt", wanted.createdOn().toEpochMilli()).bind("createdBy", wanted.createdBy())
                        .execute();
                return wanted;
            });
        } catch (StoreConflictException e) {
            // A concurrent PUT won the race; answer as if it had come first.
            Optional<RoleAssignment> sameName = metadata.withHandle(h -> findByName(h, wanted.name()));
            if (sameName.isPresent()) {
                return requireSameAssignment(sameName.get(), wanted);
            }
            throw assignmentExists();
        }
    }

    private static RoleAssignment requireSameAssignment(RoleAssignment existing, RoleAssignment wanted) {
        boolean same = existing.scope().equalsIgnoreCase(wanted.scope())
                && existing.roleDefinitionId().equals(wanted.roleDefinitionId())
                && existing.principalId().equals(wanted.principalId());
        if (!same) {
            throw ArmException.badRequest("RoleAssignmentUpdateNotPermitted", "Tenant ID, application ID, principal"
                    + " ID, and scope are not allowed to be updated: role assignment '" + existing.name()
                    + "' already grants role " + existing.roleDefinitionId() + " to " + existing.principalId()
                    + " at '" + existing.scope() + "'. Use a new GUID for a different assignment.");
        }
        return existing;
    }

    private static ArmException assignmentExists() {
        return ArmException.conflict("RoleAssignmentExists", "The role assignment already exists.");
    }

    // ---- role definitions ----

    @Override
    public List<RoleDefinition> listRoleDefinitions(Principal caller, String scope, String roleNameOrNull) {
        requireScope.accept(ResourceId.parse(scope));
        return roles.values().stream().map(CompiledRole::definition)
                .filter(r -> roleNameOrNull == null || r.roleName().equalsIgnoreCase(roleNameOrNull)).toList();
    }

    @Override
    public RoleDefinition getRoleDefinition(Principal caller, String scope, String roleDefinitionId) {
        requireScope.accept(ResourceId.parse(scope));
        return roleDefinition(roleDefinitionId);
    }

    /** Resolves any accepted spelling of a role definition id to a known definition. */
    private RoleDefinition roleDefinition(String roleDefinitionId) {
        if (roleDefinitionId == null) {
            throw ArmException.badRequest("InvalidRoleDefinitionId", "properties.roleDefinitionId is required.");
        }
        String guid;
        Matcher m = ROLE_DEFINITION_ID.matcher(roleDefinitionId);
        if (m.matches()) {
            guid = m.group(1);
        } else if (GUID_ONLY.matcher(roleDefinitionId).matches()) {
            guid = roleDefinitionId;
        } else {
            throw ArmException.badRequest("InvalidRoleDefinitionId", "The role definition ID '" + roleDefinitionId
                    + "' is not valid; use /subscriptions/{subscriptionId}/providers/Microsoft.Authorization/"
                    + "roleDefinitions/{guid}.");
        }
        CompiledRole role = roles.get(guid.toLowerCase(Locale.ROOT));
        if (role == null) {
            throw ArmException.notFound("RoleDefinitionDoesNotExist", "The specified role definition with ID '" + guid
                    + "' does not exist.");
        }
        return role.definition();
    }

    // ---- storage ----

    private List<RoleAssignment> assignmentsOf(String principalId) {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM role_assignments WHERE principal_id = :p"
                        + " ORDER BY created_at, name")
                .bind("p", principalId.toLowerCase(Locale.ROOT)).map((rs, ctx) -> toAssignment(rs)).list());
    }

    private Optional<RoleAssignment> findAt(ResourceId at, String name) {
        return metadata.withHandle(h -> findByName(h, name)).filter(a -> a.scope().equalsIgnoreCase(at.toString()));
    }

    private static Optional<RoleAssignment> findByName(Handle h, String name) {
        return h.createQuery("SELECT * FROM role_assignments WHERE name = :n")
                .bind("n", name.toLowerCase(Locale.ROOT)).map((rs, ctx) -> toAssignment(rs)).findOne();
    }

    private static Optional<RoleAssignment> findTriple(Handle h, ResourceId at, String roleId, String principalId) {
        return h.createQuery("SELECT * FROM role_assignments WHERE scope_lower = :s AND role_definition_id = :r"
                        + " AND principal_id = :p")
                .bind("s", lower(at)).bind("r", roleId.toLowerCase(Locale.ROOT))
                .bind("p", principalId.toLowerCase(Locale.ROOT)).map((rs, ctx) -> toAssignment(rs)).findOne();
    }

    private static RoleAssignment toAssignment(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new RoleAssignment(rs.getString("name"), rs.getString("scope"), rs.getString("role_definition_id"),
                rs.getString("principal_id"), rs.getString("principal_type"), rs.getString("description"),
                Instant.ofEpochMilli(rs.getLong("created_at")), rs.getString("created_by"));
    }

    private static String requireAssignmentName(String name) {
        if (name == null || !GUID_ONLY.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidRoleAssignmentId", "The role assignment ID '" + name
                    + "' is not valid. The role assignment ID must be a GUID.");
        }
        return name.toLowerCase(Locale.ROOT);
    }

    private static ResourceId parseOrNull(String scope) {
        try {
            return ResourceId.parse(scope);
        } catch (ArmException e) {
            return null;
        }
    }

    private static String lower(ResourceId id) {
        return id.toString().toLowerCase(Locale.ROOT);
    }
}
