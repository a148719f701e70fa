package io.coffre.arm;

import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import java.util.Locale;
import org.jdbi.v3.core.Handle;

/** Existence checks of subscriptions and resource groups, with ARM's errors; shared by the index and the manager. */
final class ArmChecks {
    private ArmChecks() {
    }

    /** @return the subscription id as stored (ids are compared case-insensitively) */
    static String requireSubscription(Handle h, String subscriptionId) {
        return h.createQuery("SELECT subscription_id FROM subscriptions WHERE lower(subscription_id) = :s")
                .bind("s", subscriptionId.toLowerCase(Locale.ROOT)).mapTo(String.class).findOne()
                .orElseThrow(() -> subscriptionNotFound(subscriptionId));
    }

    /** @return the resource group's name in the casing it was created with */
    static String requireResourceGroup(Handle h, String subscriptionId, String resourceGroup) {
        String subscription = requireSubscription(h, subscriptionId);
        return h.createQuery("SELECT name FROM resource_groups WHERE subscription_id = :s AND name_lower = :rg")
                .bind("s", subscription).bind("rg", resourceGroup.toLowerCase(Locale.ROOT))
                .mapTo(String.class).findOne()
                .orElseThrow(() -> resourceGroupNotFound(resourceGroup));
    }

    /**
     * Runs an insert-or-update transaction, once more if a concurrent writer inserted the same key first: the
     * second run sees that row and updates it, as the losing PUT would have had it come second.
     */
    static <R> R upsert(MetadataStore metadata, MetadataStore.Work<R> work) {
        try {
            return metadata.inTransaction(work);
        } catch (StoreConflictException e) {
            return metadata.inTransaction(work);
        }
    }

    static ArmException subscriptionNotFound(String subscriptionId) {
        return ArmException.notFound("SubscriptionNotFound", "The subscription '" + subscriptionId
                + "' could not be found.");
    }

    static ArmException resourceGroupNotFound(String name) {
        return ArmException.notFound("ResourceGroupNotFound", "Resource group '" + name + "' could not be found.");
    }
}
