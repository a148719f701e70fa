package io.coffre.compute;

import io.coffre.arm.ArmException;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.identity.Principal;
import io.coffre.seal.SealException;
import io.coffre.seal.Sealer;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Platform-managed encryption only: each disk data key is random, stored sealed (AES-256-GCM) under the server's
 * master key and bound to its key id. Customer-managed keys need the Disk Encryption Set key hierarchy, which
 * replaces this class once it is wired; until then a disk asking for a DES is refused.
 */
public final class SealedPlatformKeys implements EncryptionKeys, DataKeyRing {
    private final MetadataStore metadata;
    private final Sealer sealer;
    private final CoffreClock clock;
    private final ConcurrentMap<UUID, SecretKey> unsealed = new ConcurrentHashMap<>();

    public SealedPlatformKeys(MetadataStore metadata, Sealer sealer, CoffreClock clock) {
        this.metadata = metadata;
        this.sealer = sealer;
        this.clock = clock;
    }

    @Override
    public void check(Principal caller, Setting setting) {
        if (setting.diskEncryptionSetId() != null) {
            throw ArmException.badRequest("InvalidParameter", "Disk Encryption Sets are not available on this server "
                    + "yet; use encryption type " + JdbcDisks.PLATFORM_KEY + ".");
        }
    }

    @Override
    public DataKeyRing ring(Setting setting) {
        return this;
    }

    @Override
    public UUID newKey(String diskId) {
        UUID id = UUID.randomUUID();
        SecretKey key = Sealer.newKey();
        byte[] sealed = sealer.seal(key.getEncoded(), context(id));
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_sealed_data_keys (key_id, disk_id, sealed, "
                        + "created_at) VALUES (:k, :d, :s, :t)").bind("k", id.toString()).bind("d", diskId)
                .bind("s", sealed).bind("t", clock.now().getEpochSecond()).execute());
        unsealed.put(id, key);
        return id;
    }

    @Override
    public Optional<SecretKey> key(UUID keyId) {
        SecretKey cached = unsealed.get(keyId);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<byte[]> sealed = metadata.withHandle(h -> h.createQuery(
                        "SELECT sealed FROM compute_sealed_data_keys WHERE key_id = :k")
                .bind("k", keyId.toString()).mapTo(byte[].class).findOne());
        try {
            return sealed.map(s -> {
                SecretKey key = new SecretKeySpec(sealer.open(s, context(keyId)), "AES");
                unsealed.put(keyId, key);
                return key;
            });
        } catch (SealException e) {
            return Optional.empty();
        }
    }

    private static byte[] context(UUID keyId) {
        return ("coffre disk data key " + keyId).getBytes(StandardCharsets.UTF_8);
    }
}
