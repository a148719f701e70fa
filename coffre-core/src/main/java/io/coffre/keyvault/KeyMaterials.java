package io.coffre.keyvault;

import io.coffre.keyvault.crypto.KeyMaterial;
import java.nio.charset.StandardCharsets;
import org.jdbi.v3.core.Handle;

/**
 * The only way key material reaches storage and comes back: sealed under the store's security-domain key and bound
 * to its place ({@code key:{storeId}/{name}/{version}}), so a row copied to another key, version or store fails to
 * open.
 */
final class KeyMaterials {
    private final SecurityDomains domains;

    KeyMaterials(SecurityDomains domains) {
        this.domains = domains;
    }

    byte[] seal(Handle h, StoreRecord store, String nameLower, String version, KeyMaterial material) {
        return domains.sealer(h, store.domainId()).seal(material.encode(), context(store.storeId(), nameLower,
                version));
    }

    KeyMaterial open(Handle h, StoreRecord store, String nameLower, KeyVersion version) {
        return KeyMaterial.decode(domains.sealer(h, store.domainId()).open(version.sealedMaterial(),
                context(store.storeId(), nameLower, version.version())));
    }

    private static byte[] context(String storeId, String nameLower, String version) {
        return ("key:" + storeId + "/" + nameLower + "/" + version).getBytes(StandardCharsets.UTF_8);
    }
}
