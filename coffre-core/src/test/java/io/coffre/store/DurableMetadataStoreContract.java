package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The contract of a store whose data outlives it: what a closed store committed, the next one over it reads. */
public abstract class DurableMetadataStoreContract extends MetadataStoreContract {
    /** Opens the same database again each time (the data directory, the database server's database). */
    @Override
    protected abstract MetadataStore newStore();

    @Test
    void committedRowsSurviveReopeningAndMigrationsDoNotRerun() {
        store.withHandle(h -> h.execute("INSERT INTO subscriptions (subscription_id, tenant_id, display_name)"
                + " VALUES ('contract-durable', 't', 'Durable')"));
        store.close();
        store = newStore();
        assertThat(count("SELECT COUNT(*) FROM subscriptions WHERE subscription_id = 'contract-durable'"))
                .isEqualTo(1);
    }
}
