package io.coffre.arm;

import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import java.util.List;
import java.util.Map;

/**
 * Microsoft.Resources: subscriptions, resource groups, the resource listing over the {@link ResourceIndex}, and
 * resource provider registration. Every call is authorised for the caller as ARM does it.
 */
public interface ResourceManager {
    static ResourceManager open(MetadataStore metadata, ResourceIndex index, AccessControl access) {
        return new JdbcResourceManager(metadata, index, access);
    }

    record Subscription(String subscriptionId, String tenantId, String displayName) {
        public String id() {
            return "/subscriptions/" + subscriptionId;
        }
    }

    record ResourceGroup(String subscriptionId, String name, String location, Map<String, String> tags) {
        public String id() {
            return ResourceId.resourceGroup(subscriptionId, name).toString();
        }
    }

    record ResourceGroupPut(ResourceGroup group, boolean created) {
    }

    /** A resource provider Coffre serves; its registration state is always {@code Registered}. */
    record ResourceProvider(String namespace, List<String> resourceTypes) {
    }

    /** The subscriptions in which the caller holds some role. */
    List<Subscription> listSubscriptions(Principal caller);

    /** @throws ArmException 404 {@code SubscriptionNotFound}, also when the caller holds no role in it */
    Subscription getSubscription(Principal caller, String subscriptionId);

    /**
     * Creates a resource group or updates its tags.
     *
     * @param location e.g. {@code uaenorth} or {@code UAE North} (normalized to the former)
     * @throws ArmException 400 {@code InvalidResourceGroup} / {@code LocationRequired} / {@code InvalidTag},
     *                      409 {@code InvalidResourceGroupLocation} when the group exists elsewhere, 403, 404
     */
    ResourceGroupPut putResourceGroup(Principal caller, String subscriptionId, String name, String location,
                                      Map<String, String> tags);

    /** @throws ArmException 404 {@code ResourceGroupNotFound}, 403 {@code AuthorizationFailed} */
    ResourceGroup getResourceGroup(Principal caller, String subscriptionId, String name);

    /** The groups of a subscription the caller may read, ordered by name. */
    List<ResourceGroup> listResourceGroups(Principal caller, String subscriptionId);

    /**
     * Deletes an empty resource group.
     *
     * @throws ArmException 409 {@code ResourceGroupNotEmpty} naming the resources still in it (Coffre does not
     *                      cascade-delete other providers' resources), 404, 403
     */
    void deleteResourceGroup(Principal caller, String subscriptionId, String name);

    /** Indexed resources of a subscription or resource group the caller may read, optionally of one type. */
    List<IndexedResource> listResources(Principal caller, String subscriptionId, String resourceGroupOrNull,
                                        String typeOrNull);

    List<ResourceProvider> listProviders(Principal caller, String subscriptionId);

    /** @throws ArmException 404 {@code InvalidResourceNamespace} for a namespace Coffre does not serve */
    ResourceProvider getProvider(Principal caller, String subscriptionId, String namespace);

    /** Registers a served provider for the subscription (they are always registered: idempotent). */
    ResourceProvider registerProvider(Principal caller, String subscriptionId, String namespace);

    /**
     * Checks that a scope exists: its subscription, its resource group, and for resource scopes the top-level
     * resource in the index (a key scope under an indexed vault exists as far as ARM knows).
     *
     * @throws ArmException 404 {@code SubscriptionNotFound} / {@code ResourceGroupNotFound} / {@code ResourceNotFound}
     */
    void requireScope(ResourceId scope);
}
