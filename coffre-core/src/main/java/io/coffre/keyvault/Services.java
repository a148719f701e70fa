package io.coffre.keyvault;

import io.coffre.Endpoints;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.ResourceManager;
import io.coffre.attestation.AttestationVerifier;
import io.coffre.audit.AuditLog;
import io.coffre.catalog.Regions;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;

/** What the key service's parts share: storage, clock, the other providers' narrow interfaces, security domains. */
record Services(MetadataStore metadata, Endpoints endpoints, CoffreClock clock, Identity identity,
                AccessControl accessControl, ResourceManager resources, ResourceIndex resourceIndex, AuditLog audit,
                AttestationVerifier attestation, SecurityDomains domains, Regions regions) {

    /** Now in Unix seconds, the unit of every key-service timestamp. */
    long now() {
        return clock.now().getEpochSecond();
    }

    /** How Key Vault names a caller in its errors: {@code appid=...;oid=...;iss=...}. */
    String describeCaller(Principal caller) {
        return "appid=" + caller.appId() + ";oid=" + caller.objectId() + ";iss=" + identity.issuer();
    }

    /** Management-plane (ARM) authorization: 403 {@code AuthorizationFailed} naming the action and scope. */
    void requireArm(Principal caller, String scope, String action) {
        accessControl.require(caller, scope, action, false);
    }
}
