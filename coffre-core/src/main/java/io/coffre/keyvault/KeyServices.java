package io.coffre.keyvault;

import io.coffre.Endpoints;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.ResourceManager;
import io.coffre.attestation.AttestationVerifier;
import io.coffre.audit.AuditLog;
import io.coffre.catalog.Regions;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Identity;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;

/** Opens the key service on the metadata store and starts its scheduler (rotations and purges). */
public final class KeyServices {
    private KeyServices() {
    }

    /**
     * @param masterSealer  seals the security-domain keys and the release-signing key
     * @param accessControl management-plane RBAC, also the data plane of vaults with {@code enableRbacAuthorization}
     * @param resources     checks that a store's subscription and resource group exist
     * @param resourceIndex where vaults and managed HSMs are registered as ARM resources
     * @param attestation   verifies the attestation tokens of key releases
     */
    public static KeyService open(MetadataStore metadata, Sealer masterSealer, Endpoints endpoints, CoffreClock clock,
                                  Identity identity, AccessControl accessControl, ResourceManager resources,
                                  ResourceIndex resourceIndex, AuditLog audit, AttestationVerifier attestation) {
        Services services = new Services(metadata, endpoints, clock, identity, accessControl, resources,
                resourceIndex, audit, attestation, new SecurityDomains(masterSealer), Regions.builtIn());
        LocalRbac localRbac = new LocalRbac(services);
        DataPlaneAccess access = new DataPlaneAccess(services, localRbac);
        KeyMaterials materials = new KeyMaterials(services.domains());
        KeyBundles bundles = new KeyBundles(endpoints);
        KeyVersionWriter writer = new KeyVersionWriter(services, materials, bundles);
        KeyDataPlane keys = new KeyDataPlane(services, access, materials, bundles, writer);
        KeyCrypto crypto = new KeyCrypto(services, keys, materials, bundles,
                ReleaseSigner.open(metadata, masterSealer, endpoints, clock));
        Purges purges = new Purges(services);
        KeyScheduler scheduler = new KeyScheduler(services, keys, bundles, purges);
        KeyService service = new AuditedKeyService(services, new ManagementPlane(services, purges), keys, crypto,
                localRbac, writer, scheduler);
        scheduler.start();
        return service;
    }
}
