package io.coffre.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ResourceManager;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyService.Store;
import java.util.Locale;
import java.util.Map;

/**
 * PMK: the platform key of a region, an RSA-HSM key in the platform's own Premium vault ({@code cpmk-<region>}, purge
 * protected, in the resource group {@value #RESOURCE_GROUP} of the default subscription), created on first use.
 * Decision: the platform acts as the administrator principal of this Coffre (the operator owns the platform key as
 * Microsoft owns Azure's); it goes through the key service like any DES identity, so every use is authorised and
 * audited, and the hierarchy below it is the same as under a DES.
 */
final class PlatformKeys {
    static final String RESOURCE_GROUP = "coffre-platform";
    static final String KEY_NAME = "platform-key";
    private static final String DOMAIN_PREFIX = "platform/";

    private final Identity identity;
    private final ResourceManager resources;
    private final KeyService keyService;

    PlatformKeys(Identity identity, ResourceManager resources, KeyService keyService) {
        this.identity = identity;
        this.resources = resources;
        this.keyService = keyService;
    }

    static boolean isPlatformDomain(String domainId) {
        return domainId.startsWith(DOMAIN_PREFIX);
    }

    static String domainId(String region) {
        return DOMAIN_PREFIX + region;
    }

    static String regionOf(String domainId) {
        return domainId.substring(DOMAIN_PREFIX.length());
    }

    /** The region's key domain; the platform key is looked up (or created) only when no DES key exists yet. */
    KeyHierarchy.Domain domain(String region, KeyHierarchy hierarchy) {
        String id = domainId(region);
        String kek = hierarchy.ownCopy(id).map(KeyHierarchy.Wrapped::kekKeyId).orElseGet(() -> platformKey(region));
        return new KeyHierarchy.Domain(id, identity.admin(), kek);
    }

    private synchronized String platformKey(String region) {
        Principal platform = identity.admin();
        Store vault = Store.vault(vaultName(region));
        var existing = keyService.describeKey(vault, KEY_NAME, null);
        if (existing.isPresent()) {
            return existing.get().keyId();
        }
        String subscription = identity.defaultSubscriptionId();
        resources.putResourceGroup(platform, subscription, RESOURCE_GROUP, region, Map.of());
        if (keyService.describeKey(vault, KEY_NAME, null).isEmpty()) {
            ObjectNode body = Json.object().put("location", region);
            ObjectNode properties = body.putObject("properties");
            properties.putObject("sku").put("family", "A").put("name", "premium");
            properties.put("tenantId", identity.tenantId());
            properties.put("enablePurgeProtection", true);
            ObjectNode policy = properties.putArray("accessPolicies").addObject();
            policy.put("tenantId", identity.tenantId()).put("objectId", platform.objectId());
            var keys = policy.putObject("permissions").putArray("keys");
            for (String permission : new String[] {"get", "create", "wrapKey", "unwrapKey"}) {
                keys.add(permission);
            }
            keyService.putStore(platform, subscription, RESOURCE_GROUP, vault, body);
        }
        ObjectNode created = keyService.createKey(platform, vault, KEY_NAME,
                Json.object().put("kty", "RSA-HSM").put("key_size", 3072));
        return created.path("key").path("kid").asText();
    }

    /** Vault names are at most 24 characters. */
    private static String vaultName(String region) {
        String name = "cpmk-" + region.toLowerCase(Locale.ROOT);
        return name.length() <= 24 ? name : name.substring(0, 24);
    }
}
