package io.coffre.arm;

import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.store.MetadataStore;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/** Subscriptions and resource groups in V1's tables; resources through the index. */
final class JdbcResourceManager implements ResourceManager {
    static final String READ_GROUP = "Microsoft.Resources/subscriptions/resourceGroups/read";
    static final String WRITE_GROUP = "Microsoft.Resources/subscriptions/resourceGroups/write";
    static final String DELETE_GROUP = "Microsoft.Resources/subscriptions/resourceGroups/delete";
    static final String READ_PROVIDERS = "Microsoft.Resources/subscriptions/providers/read";
    private static final int NAMED_IN_ERROR = 10;

    /** The providers Coffre serves and the resource types they own. */
    private static final List<ResourceProvider> SERVED = List.of(
            new ResourceProvider("Microsoft.Authorization", List.of("roleAssignments", "roleDefinitions")),
            new ResourceProvider("Microsoft.Compute", List.of("virtualMachines", "disks", "snapshots",
                    "diskEncryptionSets", "restorePointCollections", "locations", "locations/operations")),
            new ResourceProvider("Microsoft.Features", List.of("features", "providers")),
            new ResourceProvider("Microsoft.KeyVault", List.of("vaults", "managedHSMs", "deletedVaults",
                    "deletedManagedHSMs", "locations", "locations/operations")),
            new ResourceProvider("Microsoft.RecoveryServices", List.of("vaults", "locations",
                    "locations/operations")),
            new ResourceProvider("Microsoft.Storage", List.of("storageAccounts", "locations",
                    "locations/operations")));

    private final MetadataStore metadata;
    private final ResourceIndex index;
    private final AccessControl access;

    JdbcResourceManager(MetadataStore metadata, ResourceIndex index, AccessControl access) {
        this.metadata = metadata;
        this.index = index;
        this.access = access;
    }

    @Override
    public List<Subscription> listSubscriptions(Principal caller) {
        AccessControl.Grants grants = access.grantsOf(caller);
        return allSubscriptions().stream().filter(s -> grants.reaches(s.id())).toList();
    }

    @Override
    public Subscription getSubscription(Principal caller, String subscriptionId) {
        Subscription s = existingSubscription(subscriptionId);
        if (!access.grantsOf(caller).reaches(s.id())) {
            // ARM answers as if a subscription the caller has no role in did not exist.
            throw ArmChecks.subscriptionNotFound(subscriptionId);
        }
        return s;
    }

    @Override
    public ResourceGroupPut putResourceGroup(Principal caller, String subscriptionId, String name, String location,
                                             Map<String, String> tags) {
        Subscription s = existingSubscription(subscriptionId);
        ResourceId.requireResourceGroupName(name);
        ResourceId id = ResourceId.resourceGroup(s.subscriptionId(), name);
        access.require(caller, id.toString(), WRITE_GROUP, false);
        String canonicalLocation = Locations.normalize(location);
        Map<String, String> checkedTags = Tags.validate(tags);
        String tagsJson = Json.write(Tags.toJson(checkedTags));
        return ArmChecks.upsert(metadata, h -> {
            Optional<ResourceGroup> existing = findGroup(h, s.subscriptionId(), name);
            if (existing.isPresent()) {
                if (!existing.get().location().equals(canonicalLocation)) {
                    throw ArmException.conflict("InvalidResourceGroupLocation", "Invalid resource group location '"
                            + location + "'. The Resource group already exists in location '"
                            + existing.get().location() + "'.");
                }
                h.createUpdate("UPDATE resource_groups SET tags = :tags WHERE subscription_id = :s AND name_lower = :n")
                        .bind("tags", tagsJson).bind("s", s.subscriptionId()).bind("n", lower(name)).execute();
                return new ResourceGroupPut(new ResourceGroup(s.subscriptionId(), existing.get().name(),
                        canonicalLocation, checkedTags), false);
            }
            h.createUpdate("INSERT INTO resource_groups (subscription_id, name_lower, name, location, tags)"
                            + " VALUES (:s, :lower, :name, :location, :tags)")
                    .bind("s", s.subscriptionId()).bind("lower", lower(name)).bind("name", name)
                    .bind("location", canonicalLocation).bind("tags", tagsJson).execute();
            return new ResourceGroupPut(new ResourceGroup(s.subscriptionId(), name, canonicalLocation, checkedTags),
                    true);
        });
    }

    @Override
    public ResourceGroup getResourceGroup(Principal caller, String subscriptionId, String name) {
        Subscription s = existingSubscription(subscriptionId);
        access.require(caller, ResourceId.resourceGroup(s.subscriptionId(), name).toString(), READ_GROUP, false);
        return metadata.withHandle(h -> findGroup(h, s.subscriptionId(), name))
                .orElseThrow(() -> ArmChecks.resourceGroupNotFound(name));
    }

    @Override
    public List<ResourceGroup> listResourceGroups(Principal caller, String subscriptionId) {
        Subscription s = existingSubscription(subscriptionId);
        AccessControl.Grants grants = access.grantsOf(caller);
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM resource_groups WHERE subscription_id = :s"
                        + " ORDER BY name_lower")
                .bind("s", s.subscriptionId()).map((rs, ctx) -> toGroup(rs)).list())
                .stream().filter(g -> grants.allows(g.id(), READ_GROUP, false)).toList();
    }

    @Override
    public void deleteResourceGroup(Principal caller, String subscriptionId, String name) {
        Subscription s = existingSubscription(subscriptionId);
        access.require(caller, ResourceId.resourceGroup(s.subscriptionId(), name).toString(), DELETE_GROUP, false);
        metadata.inTransaction(h -> {
            ResourceGroup group = findGroup(h, s.subscriptionId(), name)
                    .orElseThrow(() -> ArmChecks.resourceGroupNotFound(name));
            List<IndexedResource> inside = JdbcResourceIndex.list(h, s.subscriptionId(), group.name(), null);
            if (!inside.isEmpty()) {
                String named = inside.stream().limit(NAMED_IN_ERROR).map(IndexedResource::id)
                        .collect(Collectors.joining(", "));
                throw ArmException.conflict("ResourceGroupNotEmpty", "Resource group '" + group.name()
                        + "' still contains " + inside.size() + " resource(s): " + named
                        + (inside.size() > NAMED_IN_ERROR ? ", ..." : "") + ". Coffre does not delete a group's"
                        + " resources with it yet; delete them first, then delete the resource group.");
            }
            h.createUpdate("DELETE FROM resource_groups WHERE subscription_id = :s AND name_lower = :n")
                    .bind("s", s.subscriptionId()).bind("n", lower(name)).execute();
            return null;
        });
    }

    @Override
    public List<IndexedResource> listResources(Principal caller, String subscriptionId, String resourceGroupOrNull,
                                               String typeOrNull) {
        Subscription s = existingSubscription(subscriptionId);
        if (resourceGroupOrNull != null) {
            access.require(caller, ResourceId.resourceGroup(s.subscriptionId(), resourceGroupOrNull).toString(),
                    READ_GROUP, false);
            metadata.withHandle(h -> ArmChecks.requireResourceGroup(h, s.subscriptionId(), resourceGroupOrNull));
        }
        AccessControl.Grants grants = access.grantsOf(caller);
        return index.list(s.subscriptionId(), resourceGroupOrNull, typeOrNull).stream()
                .filter(r -> grants.allows(r.id(), r.type() + "/read", false)).toList();
    }

    @Override
    public List<ResourceProvider> listProviders(Principal caller, String subscriptionId) {
        Subscription s = existingSubscription(subscriptionId);
        access.require(caller, s.id(), READ_PROVIDERS, false);
        return SERVED;
    }

    @Override
    public ResourceProvider getProvider(Principal caller, String subscriptionId, String namespace) {
        Subscription s = existingSubscription(subscriptionId);
        access.require(caller, s.id(), READ_PROVIDERS, false);
        return served(namespace);
    }

    @Override
    public ResourceProvider registerProvider(Principal caller, String subscriptionId, String namespace) {
        Subscription s = existingSubscription(subscriptionId);
        ResourceProvider provider = served(namespace);
        access.require(caller, s.id(), provider.namespace() + "/register/action", false);
        return provider;
    }

    @Override
    public void requireScope(ResourceId scope) {
        metadata.withHandle(h -> {
            String subscription = ArmChecks.requireSubscription(h, scope.subscriptionId());
            if (scope.resourceGroup() != null) {
                ArmChecks.requireResourceGroup(h, subscription, scope.resourceGroup());
            }
            scope.topLevelResource().ifPresent(top -> {
                if (JdbcResourceIndex.find(h, top).isEmpty()) {
                    throw ArmException.notFound("ResourceNotFound", "The Resource '" + top.type() + "/" + top.name()
                            + "' under resource group '" + top.resourceGroup() + "' was not found.");
                }
            });
            return null;
        });
    }

    private static ResourceProvider served(String namespace) {
        return SERVED.stream().filter(p -> p.namespace().equalsIgnoreCase(namespace)).findFirst()
                .orElseThrow(() -> ArmException.notFound("InvalidResourceNamespace", "The resource namespace '"
                        + namespace + "' is invalid. Coffre serves " + SERVED.stream().map(ResourceProvider::namespace)
                        .collect(Collectors.joining(", ")) + "."));
    }

    private List<Subscription> allSubscriptions() {
        return metadata.withHandle(h -> h.createQuery("SELECT * FROM subscriptions ORDER BY subscription_id")
                .map((rs, ctx) -> new Subscription(rs.getString("subscription_id"), rs.getString("tenant_id"),
                        rs.getString("display_name"))).list());
    }

    private Subscription existingSubscription(String subscriptionId) {
        return allSubscriptions().stream().filter(s -> s.subscriptionId().equalsIgnoreCase(subscriptionId))
                .findFirst().orElseThrow(() -> ArmChecks.subscriptionNotFound(subscriptionId));
    }

    private static Optional<ResourceGroup> findGroup(org.jdbi.v3.core.Handle h, String subscriptionId, String name) {
        return h.createQuery("SELECT * FROM resource_groups WHERE subscription_id = :s AND name_lower = :n")
                .bind("s", subscriptionId).bind("n", lower(name)).map((rs, ctx) -> toGroup(rs)).findOne();
    }

    private static ResourceGroup toGroup(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new ResourceGroup(rs.getString("subscription_id"), rs.getString("name"), rs.getString("location"),
                Tags.fromStored(rs.getString("tags")));
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
