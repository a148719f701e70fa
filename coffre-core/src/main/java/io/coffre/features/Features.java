package io.coffre.features;

import io.coffre.arm.ResourceManager;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.util.List;

/**
 * Microsoft.Features (AFEC): preview features and subscription flags, registered per subscription. Features of
 * the shipped catalog marked {@code autoApprove} go {@code Registering → Registered} on their own (once their
 * approval delay has passed on the Coffre clock; for {@code Microsoft.Compute/RestorePointSupportForConfidentialVMV2}
 * that is at once: the read after register shows {@code Registered}); the others stay {@code Pending}.
 */
public interface Features {
    String REGISTER_ACTION = "Microsoft.Features/providers/features/register/action";
    String UNREGISTER_ACTION = "Microsoft.Features/providers/features/unregister/action";
    String READ_ACTION = "Microsoft.Features/providers/features/read";
    String LIST_ALL_ACTION = "Microsoft.Features/features/read";

    static Features open(MetadataStore metadata, ResourceManager resourceManager, AccessControl access,
                         CoffreClock clock) {
        return new JdbcFeatures(metadata, resourceManager, access, clock, FeatureCatalog.builtIn());
    }

    /** The states of reference §3.2; {@code NotRegistered} is a feature never asked for. */
    enum State {
        NotRegistered, Pending, Registering, Registered, Unregistering, Unregistered
    }

    /** One feature's state in one subscription; {@code namespace} and {@code name} as the catalog spells them. */
    record Feature(String subscriptionId, String namespace, String name, State state) {
        /** {@code /subscriptions/{s}/providers/Microsoft.Features/providers/{ns}/features/{name}} */
        public String id() {
            return "/subscriptions/" + subscriptionId + "/providers/Microsoft.Features/providers/" + namespace
                    + "/features/" + name;
        }

        /** {@code Microsoft.Compute/RestorePointSupportForConfidentialVMV2}: the wire's {@code name}. */
        public String fullName() {
            return namespace + "/" + name;
        }
    }

    /**
     * Asks for a feature: {@code Registering} when auto-approved, else {@code Pending}; a feature already registered
     * (or on its way) stays as it is.
     *
     * @throws io.coffre.arm.ArmException 404 {@code SubscriptionNotFound} / {@code FeatureNotFound},
     *                                    403 {@code AuthorizationFailed} without {@link #REGISTER_ACTION}
     */
    Feature register(Principal caller, String subscriptionId, String namespace, String name);

    /**
     * Withdraws a feature: a registered one goes {@code Unregistering → Unregistered}, a pending request is
     * withdrawn at once ({@code Unregistered}).
     *
     * @throws io.coffre.arm.ArmException like {@link #register}, with {@link #UNREGISTER_ACTION}
     */
    Feature unregister(Principal caller, String subscriptionId, String namespace, String name);

    /** @throws io.coffre.arm.ArmException 404 as {@link #register}, 403 without {@link #READ_ACTION} */
    Feature get(Principal caller, String subscriptionId, String namespace, String name);

    /**
     * Every known feature with its state in the subscription, ordered by namespace and name.
     *
     * @param namespaceOrNull one namespace's features (needs {@link #READ_ACTION}), or all (needs
     *                        {@link #LIST_ALL_ACTION})
     */
    List<Feature> list(Principal caller, String subscriptionId, String namespaceOrNull);

    /** Whether the feature is {@code Registered} in the subscription now; for the platform's own checks (no caller). */
    boolean isRegistered(String subscriptionId, String namespace, String name);
}
