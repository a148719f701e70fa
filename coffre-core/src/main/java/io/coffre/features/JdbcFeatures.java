package io.coffre.features;

import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.arm.ResourceManager;
import io.coffre.features.FeatureCatalog.KnownFeature;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import io.coffre.time.CoffreClock;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * Feature registrations in V8's table. Reads never write: a transitional state whose {@code settles_at} the clock
 * has reached is reported as its end state, and the next write starts from that.
 */
final class JdbcFeatures implements Features {
    private final MetadataStore metadata;
    private final ResourceManager resourceManager;
    private final AccessControl access;
    private final CoffreClock clock;
    private final FeatureCatalog catalog;

    JdbcFeatures(MetadataStore metadata, ResourceManager resourceManager, AccessControl access, CoffreClock clock,
                 FeatureCatalog catalog) {
        this.metadata = metadata;
        this.resourceManager = resourceManager;
        this.access = access;
        this.clock = clock;
        this.catalog = catalog;
    }

    /** A stored row: its state as written and when (if ever) it settles. */
    private record Row(State state, Long settlesAt) {
        static Row of(ResultSet rs) throws SQLException {
            long settlesAt = rs.getLong("settles_at");
            return new Row(State.valueOf(rs.getString("state")), rs.wasNull() ? null : settlesAt);
        }

        State effective(long now) {
            if (settlesAt == null || now < settlesAt) {
                return state;
            }
            return switch (state) {
                case Registering -> State.Registered;
                case Unregistering -> State.Unregistered;
                default -> state;
            };
        }
    }

    @Override
    public Feature register(Principal caller, String subscriptionId, String namespace, String name) {
        String subscription = authorize(caller, subscriptionId, REGISTER_ACTION);
        KnownFeature known = known(namespace, name);
        return change(subscription, known, current -> switch (current) {
            case Registering, Registered, Pending -> Optional.empty();
            default -> Optional.of(known.autoApprove() ? State.Registering : State.Pending);
        });
    }

    @Override
    public Feature unregister(Principal caller, String subscriptionId, String namespace, String name) {
        String subscription = authorize(caller, subscriptionId, UNREGISTER_ACTION);
        KnownFeature known = known(namespace, name);
        return change(subscription, known, current -> switch (current) {
            case Registering, Registered -> Optional.of(State.Unregistering);
            // Withdrawing a request nobody approved, or a feature never asked for: nothing to wind down.
            case Pending, NotRegistered -> Optional.of(State.Unregistered);
            default -> Optional.empty();
        });
    }

    @Override
    public Feature get(Principal caller, String subscriptionId, String namespace, String name) {
        String subscription = authorize(caller, subscriptionId, READ_ACTION);
        KnownFeature known = known(namespace, name);
        long now = clock.now().toEpochMilli();
        State state = metadata.withHandle(h -> find(h, subscription, known, "")).map(r -> r.effective(now))
                .orElse(State.NotRegistered);
        return feature(subscription, known, state);
    }

    @Override
    public List<Feature> list(Principal caller, String subscriptionId, String namespaceOrNull) {
        String subscription = authorize(caller, subscriptionId, namespaceOrNull == null ? LIST_ALL_ACTION
                : READ_ACTION);
        long now = clock.now().toEpochMilli();
        Map<String, Row> rows = metadata.withHandle(h -> {
            Map<String, Row> byKey = new HashMap<>();
            h.createQuery("SELECT namespace, name, state, settles_at FROM feature_registrations"
                            + " WHERE subscription_id = :s")
                    .bind("s", subscription)
                    .map((rs, ctx) -> Map.entry(rs.getString("namespace") + "/" + rs.getString("name"),
                            Row.of(rs)))
                    .forEach(e -> byKey.put(e.getKey(), e.getValue()));
            return byKey;
        });
        return catalog.list(namespaceOrNull).stream().map(known -> {
            Row row = rows.get(known.namespace() + "/" + known.name());
            return feature(subscription, known, row == null ? State.NotRegistered : row.effective(now));
        }).toList();
    }

    @Override
    public boolean isRegistered(String subscriptionId, String namespace, String name) {
        Optional<KnownFeature> known = catalog.find(namespace, name);
        if (known.isEmpty()) {
            return false;
        }
        long now = clock.now().toEpochMilli();
        return metadata.withHandle(h -> find(h, key(subscriptionId), known.get(), ""))
                .map(r -> r.effective(now) == State.Registered).orElse(false);
    }

    private interface Transition {
        /** The state to move to from {@code current}, or empty to leave the feature as it is. */
        Optional<State> from(State current);
    }

    /**
     * Applies a transition in one transaction; a concurrent first request that inserted the row first makes this
     * one run again and see it.
     */
    private Feature change(String subscription, KnownFeature known, Transition transition) {
        try {
            return metadata.inTransaction(h -> change(h, subscription, known, transition));
        } catch (StoreConflictException e) {
            return metadata.inTransaction(h -> change(h, subscription, known, transition));
        }
    }

    private Feature change(Handle h, String subscription, KnownFeature known, Transition transition) {
        long now = clock.now().toEpochMilli();
        Optional<Row> row = find(h, subscription, known, " FOR UPDATE");
        State current = row.map(r -> r.effective(now)).orElse(State.NotRegistered);
        Optional<State> next = transition.from(current);
        if (next.isEmpty()) {
            return feature(subscription, known, current);
        }
        State state = next.get();
        Long settlesAt = state == State.Registering || state == State.Unregistering
                ? now + known.approvalDelay().toMillis() : null;
        if (row.isPresent()) {
            h.createUpdate("UPDATE feature_registrations SET state = :state, changed_at = :now, settles_at = :settles"
                            + " WHERE subscription_id = :s AND namespace = :ns AND name = :n")
                    .bind("state", state.name()).bind("now", now).bind("settles", settlesAt)
                    .bind("s", subscription).bind("ns", known.namespace()).bind("n", known.name()).execute();
        } else {
            h.createUpdate("INSERT INTO feature_registrations (subscription_id, namespace, name, state, changed_at,"
                            + " settles_at) VALUES (:s, :ns, :n, :state, :now, :settles)")
                    .bind("s", subscription).bind("ns", known.namespace()).bind("n", known.name())
                    .bind("state", state.name()).bind("now", now).bind("settles", settlesAt).execute();
        }
        // The answer to register is the state as written (Registering), even when it settles at once.
        return feature(subscription, known, state);
    }

    /** @param lock {@code " FOR UPDATE"} in a read-modify-write transaction, else empty */
    private static Optional<Row> find(Handle h, String subscription, KnownFeature known, String lock) {
        return h.createQuery("SELECT state, settles_at FROM feature_registrations"
                        + " WHERE subscription_id = :s AND namespace = :ns AND name = :n" + lock)
                .bind("s", subscription).bind("ns", known.namespace()).bind("n", known.name())
                .map((rs, ctx) -> Row.of(rs))
                .findOne();
    }

    /** @return the subscription id as stored: subscription ids are GUIDs, compared case-insensitively */
    private String authorize(Principal caller, String subscriptionId, String action) {
        ResourceId scope = ResourceId.subscription(subscriptionId);
        resourceManager.requireScope(scope);
        access.require(caller, scope.toString(), action, false);
        return key(subscriptionId);
    }

    private KnownFeature known(String namespace, String name) {
        return catalog.find(namespace, name).orElseThrow(() -> ArmException.notFound("FeatureNotFound",
                "The feature '" + name + "' could not be found in namespace '" + namespace + "'. List the known"
                        + " features with: coffre feature list --namespace " + namespace + "."));
    }

    private static Feature feature(String subscription, KnownFeature known, State state) {
        return new Feature(subscription, known.namespace(), known.name(), state);
    }

    private static String key(String subscriptionId) {
        return subscriptionId.toLowerCase(Locale.ROOT);
    }
}
