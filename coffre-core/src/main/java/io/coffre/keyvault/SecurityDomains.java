package io.coffre.keyvault;

import io.coffre.catalog.Regions;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.store.StoreConflictException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Handle;

/**
 * Security domains: the boundary a key backup can be restored within. A Key Vault's domain is its (subscription,
 * geography); each managed HSM has its own. Every domain has a random AES-256 key, stored sealed by the master key,
 * under which the domain's key material and backup blobs are sealed.
 */
final class SecurityDomains {
    private final Sealer master;
    /** Opened domain keys: the service holds them in memory as an HSM holds its domain. */
    private final Map<String, Sealer> opened = new ConcurrentHashMap<>();

    SecurityDomains(Sealer master) {
        this.master = master;
    }

    static String forVault(String subscriptionId, Regions.Region region) {
        return "vault:" + subscriptionId.toLowerCase(Locale.ROOT) + ":" + region.geography();
    }

    static String forHsm(String storeId) {
        return "hsm:" + storeId;
    }

    /** Creates the domain if it does not exist yet; safe when several callers race to create the same one. */
    void ensure(MetadataStore metadata, String domainId, long now) {
        if (exists(metadata, domainId)) {
            return;
        }
        try {
            metadata.inTransaction(h -> {
                create(h, domainId, now);
                return null;
            });
        } catch (StoreConflictException raced) {
            // Another caller created it first; theirs is the domain.
        }
    }

    void create(Handle h, String domainId, long now) {
        h.createUpdate("INSERT INTO kv_security_domains (domain_id, sealed_key, created_at) VALUES (:id, :key, :now)")
                .bind("id", domainId)
                .bind("key", master.seal(Sealer.newKey().getEncoded(), context(domainId)))
                .bind("now", now)
                .execute();
    }

    /** The sealer of a domain's material: key versions and backup blobs. */
    Sealer sealer(Handle h, String domainId) {
        Sealer cached = opened.get(domainId);
        if (cached != null) {
            return cached;
        }
        byte[] sealed = h.createQuery("SELECT sealed_key FROM kv_security_domains WHERE domain_id = :id")
                .bind("id", domainId).mapTo(byte[].class).findOne()
                .orElseThrow(() -> new IllegalStateException("security domain " + domainId + " is missing"));
        SecretKey key = new SecretKeySpec(master.open(sealed, context(domainId)), "AES");
        Sealer sealer = new Sealer(key);
        opened.put(domainId, sealer);
        return sealer;
    }

    /** Removes a domain no store uses any more (a purged HSM's own domain). */
    void deleteIfUnused(Handle h, String domainId) {
        int users = h.createQuery("SELECT COUNT(*) FROM kv_stores WHERE domain_id = :id").bind("id", domainId)
                .mapTo(Integer.class).one();
        if (users == 0) {
            h.createUpdate("DELETE FROM kv_security_domains WHERE domain_id = :id").bind("id", domainId).execute();
            opened.remove(domainId);
        }
    }

    private static boolean exists(MetadataStore metadata, String domainId) {
        return metadata.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM kv_security_domains WHERE domain_id = :id")
                .bind("id", domainId).mapTo(Integer.class).one()) > 0;
    }

    private static byte[] context(String domainId) {
        return ("security-domain:" + domainId).getBytes(StandardCharsets.UTF_8);
    }
}
