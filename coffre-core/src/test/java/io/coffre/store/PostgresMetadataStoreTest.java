package io.coffre.store;

/** The metadata contract, and every migration, on a real PostgreSQL server (the scale-out store). */
class PostgresMetadataStoreTest extends DurableMetadataStoreContract {
    private String url;

    @Override
    protected MetadataStore newStore() {
        if (url == null) {
            url = PostgresCluster.newDatabase();
        }
        return MetadataStores.jdbc(url, PostgresCluster.USER, "");
    }
}
