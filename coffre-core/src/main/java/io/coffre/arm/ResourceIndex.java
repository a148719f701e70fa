package io.coffre.arm;

import io.coffre.store.MetadataStore;
import java.util.List;
import java.util.Optional;

/**
 * The generic index of ARM resources that every resource provider registers its resources in, so the
 * Microsoft.Resources surface (resource listing, resource-group deletion, role-assignment scopes) knows them without
 * knowing the providers. A provider calls {@link #put} after creating or updating a resource and {@link #remove}
 * after deleting it (a soft-deleted vault is no longer a resource of its group).
 */
public interface ResourceIndex {
    static ResourceIndex open(MetadataStore metadata) {
        return new JdbcResourceIndex(metadata);
    }

    /**
     * Records or updates a resource.
     *
     * @param id           the full ARM id ({@link ResourceId} syntax)
     * @param type         its full type, e.g. {@code Microsoft.KeyVault/vaults}; must match the id
     * @param location     normalized location, e.g. {@code uaenorth}
     * @param jsonTagsOrNull tags as a JSON object, or null
     * @throws ArmException 400 {@code InvalidResourceId} for a malformed id, 404 {@code ResourceGroupNotFound} when
     *                      the id names a resource group that does not exist
     */
    void put(String id, String type, String location, String jsonTagsOrNull);

    /** Forgets a resource; a no-op when it is not indexed. */
    void remove(String id);

    /**
     * Resources of a subscription, optionally of one resource group and / or of one type (both case-insensitive),
     * ordered by id.
     */
    List<IndexedResource> list(String subscriptionId, String resourceGroupOrNull, String typeOrNull);

    Optional<IndexedResource> get(String id);
}
