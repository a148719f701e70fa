package io.coffre.arm;

import io.coffre.store.MetadataStore;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/** The resource index in table {@code arm_resources}; the foreign key to its resource group keeps groups honest. */
final class JdbcResourceIndex implements ResourceIndex {
    private final MetadataStore metadata;

    JdbcResourceIndex(MetadataStore metadata) {
        this.metadata = metadata;
    }

    @Override
    public void put(String id, String type, String location, String jsonTagsOrNull) {
        ResourceId rid = ResourceId.parse(id);
        if (rid.provider() == null) {
            throw new IllegalArgumentException(id + " is a subscription or resource group, not a provider resource");
        }
        if (!rid.type().equalsIgnoreCase(type)) {
            throw new IllegalArgumentException("type " + type + " does not match id " + id + " (" + rid.type() + ")");
        }
        ArmChecks.upsert(metadata, h -> {
            String subscription = ArmChecks.requireSubscription(h, rid.subscriptionId());
            String group = rid.resourceGroup() == null ? null
                    : ArmChecks.requireResourceGroup(h, subscription, rid.resourceGroup());
            int updated = h.createUpdate("UPDATE arm_resources SET id = :id, type = :type, location = :location,"
                            + " tags = :tags WHERE id_lower = :key")
                    .bind("id", rid.toString()).bind("type", rid.type()).bind("location", location)
                    .bind("tags", jsonTagsOrNull).bind("key", key(rid)).execute();
            if (updated == 0) {
                h.createUpdate("INSERT INTO arm_resources (id_lower, id, subscription_id, resource_group_lower,"
                                + " resource_group, type_lower, type, name, location, tags) VALUES (:key, :id, :s,"
                                + " :rgLower, :rg, :typeLower, :type, :name, :location, :tags)")
                        .bind("key", key(rid)).bind("id", rid.toString()).bind("s", subscription)
                        .bind("rgLower", group == null ? null : group.toLowerCase(Locale.ROOT)).bind("rg", group)
                        .bind("typeLower", rid.type().toLowerCase(Locale.ROOT)).bind("type", rid.type())
                        .bind("name", rid.name()).bind("location", location).bind("tags", jsonTagsOrNull)
                        .execute();
            }
            return null;
        });
    }

    @Override
    public void remove(String id) {
        ResourceId rid = ResourceId.parse(id);
        metadata.withHandle(h -> h.createUpdate("DELETE FROM arm_resources WHERE id_lower = :key")
                .bind("key", key(rid)).execute());
    }

    @Override
    public List<IndexedResource> list(String subscriptionId, String resourceGroupOrNull, String typeOrNull) {
        return metadata.withHandle(h -> list(h, subscriptionId, resourceGroupOrNull, typeOrNull));
    }

    static List<IndexedResource> list(Handle h, String subscriptionId, String resourceGroupOrNull, String typeOrNull) {
        return h.createQuery("SELECT * FROM arm_resources WHERE lower(subscription_id) = :s"
                        + " AND (:rg IS NULL OR resource_group_lower = :rg) AND (:type IS NULL OR type_lower = :type)"
                        + " ORDER BY id_lower")
                .bind("s", subscriptionId.toLowerCase(Locale.ROOT))
                .bind("rg", resourceGroupOrNull == null ? null : resourceGroupOrNull.toLowerCase(Locale.ROOT))
                .bind("type", typeOrNull == null ? null : typeOrNull.toLowerCase(Locale.ROOT))
                .map((rs, ctx) -> toResource(rs)).list();
    }

    @Override
    public Optional<IndexedResource> get(String id) {
        ResourceId rid = ResourceId.parse(id);
        return metadata.withHandle(h -> find(h, rid));
    }

    static Optional<IndexedResource> find(Handle h, ResourceId rid) {
        return h.createQuery("SELECT * FROM arm_resources WHERE id_lower = :key").bind("key", key(rid))
                .map((rs, ctx) -> toResource(rs)).findOne();
    }

    private static String key(ResourceId rid) {
        return rid.toString().toLowerCase(Locale.ROOT);
    }

    private static IndexedResource toResource(java.sql.ResultSet rs) throws java.sql.SQLException {
        return new IndexedResource(rs.getString("id"), rs.getString("subscription_id"), rs.getString("resource_group"),
                rs.getString("type"), rs.getString("name"), rs.getString("location"), rs.getString("tags"));
    }
}
