package io.coffre.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.Endpoints;
import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.ResourceManager;
import io.coffre.identity.AccessControl;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.keyvault.KeyService;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.time.Instant;
import java.util.List;

/**
 * Microsoft.Compute/diskEncryptionSets: a DES names a customer key (versioned {@code activeKey.keyUrl}) and acts as
 * its own system-assigned managed identity on it. Wire shapes are those of reference/azure-rest-shapes.md §3.3;
 * every method throws {@link io.coffre.arm.ArmException} for anything the caller can fix.
 *
 * <p>Rotation (a new {@code keyUrl} by PUT / PATCH, or a new version of the key when
 * {@code rotationToLatestKeyVersionEnabled}) is a persisted async operation of kind {@link #ROTATION_KIND}: one
 * unwrap and one wrap in the key service, one update of every stored copy of the wrapped DES key, then a
 * {@link RotationEvent} every registered {@link RotationConsumer} must acknowledge.
 */
public interface DiskEncryptionSets extends AutoCloseable {
    String RESOURCE_TYPE = "Microsoft.Compute/diskEncryptionSets";
    String ROTATION_KIND = "Microsoft.Compute/diskEncryptionSets/rotateKey";

    /**
     * @param created             true when the PUT created the DES
     * @param rotationOperationId the async operation of the rotation this call started, or null
     */
    record PutResult(ObjectNode resource, boolean created, String rotationOperationId) {
    }

    PutResult put(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body);

    /** Updates {@code activeKey}, {@code rotationToLatestKeyVersionEnabled} and tags; the rest is immutable. */
    PutResult patch(Principal caller, String subscriptionId, String resourceGroup, String name, JsonNode body);

    ObjectNode get(Principal caller, String subscriptionId, String resourceGroup, String name);

    /** The DESs the caller may read in a subscription, or in one resource group when one is given. */
    List<ObjectNode> list(Principal caller, String subscriptionId, String resourceGroupOrNull);

    /** @throws io.coffre.arm.ArmException 409 {@code DiskEncryptionSetInUse} while resources are associated */
    void delete(Principal caller, String subscriptionId, String resourceGroup, String name);

    /** The ARM ids of the disks, snapshots ... encrypted with this DES (its {@code associatedResources}). */
    List<String> associatedResources(Principal caller, String subscriptionId, String resourceGroup, String name);

    /** Records that {@code resourceId} is encrypted with the DES (idempotent); the disk layer calls it on create. */
    void associate(String desId, String resourceId);

    /** Forgets an association (idempotent); the disk layer calls it on delete. */
    void dissociate(String desId, String resourceId);

    /**
     * Records that {@code ownerId} (a snapshot, restore point or recovery point) keeps the DES key (idempotent): it
     * references the DES's one stored wrapped key, which a rotation rewrites, so the owner reads under the new KEK
     * version afterwards with no per-owner work.
     */
    void copyWrappedKey(String desId, String ownerId);

    /** Forgets the DES keys {@code ownerId} keeps. */
    void dropWrappedKeys(String ownerId);

    /** A published rotation: every copy of the DES key is now wrapped by {@code newKeyUrl}. */
    record RotationEvent(String id, String desId, String oldKeyUrl, String newKeyUrl, Instant publishedAt) {
    }

    /** Something that keeps its own copies derived from a DES key (the backup provider's recovery points). */
    interface RotationConsumer {
        /**
         * Called (again after a crash, until acknowledged) for each rotation event.
         *
         * @return true to acknowledge now, false to acknowledge later through {@link #acknowledge}
         */
        boolean onRotation(RotationEvent event);
    }

    /** Registers a consumer by a stable name; a rotation completes once every registered consumer acknowledged. */
    void registerRotationConsumer(String consumerName, RotationConsumer consumer);

    /** A consumer's late acknowledgement; completes the rotation when it was the last one missing. Idempotent. */
    void acknowledge(String eventId, String consumerName);

    /**
     * A DES's type and the versioned key id it uses now, read without a caller: the platform releases this key to a
     * confidential VM at create and start.
     *
     * @param principalId the DES's managed identity (which may read the key to use it)
     */
    record ActiveKey(String desId, String encryptionType, String keyUrl, String location, String principalId) {
    }

    /** @return empty when there is no such DES */
    java.util.Optional<ActiveKey> activeKey(String desId);

    /** The disks' view of the same service: data keys under a DES or the platform key of a region. */
    EncryptionKeys encryptionKeys();

    /**
     * Opens the service; registers its rotation resumer (call before {@link AsyncOperations#resumeInterrupted}) and
     * its listener for new key versions.
     */
    static DiskEncryptionSets open(MetadataStore metadata, Identity identity, AccessControl access,
                                   ResourceManager resources, ResourceIndex index, KeyService keyService,
                                   AsyncOperations operations, Endpoints endpoints, CoffreClock clock) {
        return new DesService(metadata, identity, access, resources, index, keyService, operations, endpoints, clock);
    }

    /** Stops the rotation worker; rotations in progress resume on next start. */
    @Override
    void close();
}
