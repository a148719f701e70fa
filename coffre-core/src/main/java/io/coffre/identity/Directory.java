package io.coffre.identity;

import java.util.Optional;

/** The principals Coffre knows: users, service principals, managed identities and the first-party apps. */
public interface Directory {
    /** Backup Management Service: the identity the backup provider acts as. */
    String BACKUP_MANAGEMENT_SERVICE_APP_ID = "262044b1-e2ce-469f-a196-69ab7ada62d3";
    /** Confidential VM Orchestrator: releases CMK keys to attested confidential VMs. */
    String CVM_ORCHESTRATOR_APP_ID = "bf7b6499-ff71-4aa2-97a4-f372087be7f0";

    /** Finds a principal by object id, app (client) id or, for users, display name. */
    Optional<Principal> find(String idOrAppId);
}
