package io.coffre.keyvault;

import io.coffre.arm.ArmException;
import io.coffre.keyvault.KeyService.NewKeyVersion;
import io.coffre.keyvault.crypto.KeyMaterial;
import io.coffre.store.StoreConflictException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds key versions: create (new name or new version), import, rotate and automatic rotation all go through here,
 * so every version gets a fresh id, the next sequence number and sealed material, and listeners hear of each new
 * version of an existing key once its transaction has committed.
 */
final class KeyVersionWriter {
    private static final Logger LOG = LoggerFactory.getLogger(KeyVersionWriter.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int ATTEMPTS = 5;

    private final Services services;
    private final KeyMaterials materials;
    private final KeyBundles bundles;
    private final List<Consumer<NewKeyVersion>> listeners = new CopyOnWriteArrayList<>();

    KeyVersionWriter(Services services, KeyMaterials materials, KeyBundles bundles) {
        this.services = services;
        this.materials = materials;
        this.bundles = bundles;
    }

    void onNewKeyVersion(Consumer<NewKeyVersion> listener) {
        listeners.add(listener);
    }

    record Written(KeyRecord key, KeyVersion version, boolean newName) {
    }

    /**
     * Adds a version under {@code name}, creating the name when it is new. A soft-deleted name is refused (409).
     *
     * @param expectedLatestSeq when set, the version is added only if the key's latest version still has this
     *                          sequence number (automatic rotation); otherwise empty is returned
     */
    Optional<Written> add(StoreRecord store, String name, KeyMaterial material, KeyRequests.VersionSettings settings,
                          Integer expectedLatestSeq) {
        for (int attempt = 1; ; attempt++) {
            try {
                Optional<Written> written = services.metadata().inTransaction(h ->
                        addInTransaction(h, store, name, material, settings, expectedLatestSeq));
                written.filter(w -> !w.newName()).ifPresent(w -> notifyListeners(store, w));
                return written;
            } catch (StoreConflictException concurrent) {
                // Another writer added a version (or the name) first: with an expectation that means "already done".
                if (expectedLatestSeq != null) {
                    return Optional.empty();
                }
                if (attempt == ATTEMPTS) {
                    throw ArmException.conflict("Conflict", "The key '" + name + "' is being changed by other"
                            + " requests at the same time; retry.");
                }
            }
        }
    }

    private Optional<Written> addInTransaction(Handle h, StoreRecord store, String name, KeyMaterial material,
                                               KeyRequests.VersionSettings settings, Integer expectedLatestSeq) {
        Optional<KeyRecord> existing = KeyRepository.find(h, store.storeId(), name);
        if (existing.isPresent() && existing.get().isDeleted()) {
            throw deletedButRecoverable(name);
        }
        boolean newName = existing.isEmpty();
        if (newName) {
            KeyRepository.insert(h, store.storeId(), name);
        }
        KeyRecord key = existing.orElseGet(() -> KeyRepository.find(h, store.storeId(), name).orElseThrow());
        int latestSeq = KeyRepository.latest(h, store.storeId(), key.nameLower()).map(KeyVersion::seq).orElse(0);
        if (expectedLatestSeq != null && latestSeq != expectedLatestSeq) {
            return Optional.empty();
        }
        KeyVersion version = newVersion(h, store, key, latestSeq + 1, material, settings, services.now());
        KeyRepository.insertVersion(h, store.storeId(), key.nameLower(), version);
        return Optional.of(new Written(key, version, newName));
    }

    /** A version with a fresh id; the material sealed to its place. */
    KeyVersion newVersion(Handle h, StoreRecord store, KeyRecord key, int seq, KeyMaterial material,
                          KeyRequests.VersionSettings s, long now) {
        String id = newVersionId();
        return new KeyVersion(id, seq, material.type(), material.type().isEc() ? null : material.keySize(),
                material.curve(), s.keyOps(), s.enabled(), s.notBefore(), s.expiresAt(), s.exportable(), now, now,
                s.tags(), s.releasePolicy(), material.publicJwk(null, null), material.thumbprint(),
                materials.seal(h, store, key.nameLower(), id, material));
    }

    static ArmException deletedButRecoverable(String name) {
        return new ArmException(409, "Conflict", "Key " + name + " is currently in a deleted but recoverable state,"
                + " and its name cannot be reused; in this state, the key can only be recovered or purged.",
                "ObjectIsDeletedButRecoverable");
    }

    /** 32 lower-case hex characters, as Key Vault's version ids. */
    private static String newVersionId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    private void notifyListeners(StoreRecord store, Written written) {
        NewKeyVersion event = new NewKeyVersion(store.store(), written.key().name(),
                bundles.versionId(store, written.key(), written.version()));
        for (Consumer<NewKeyVersion> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                LOG.warn("a new-key-version listener failed for {}", event.keyId(), e);
            }
        }
    }
}
