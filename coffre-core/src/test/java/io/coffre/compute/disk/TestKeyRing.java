package io.coffre.compute.disk;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * A key ring for tests. Each key is derived from its id, so a second process (the crash test's) or a reopened store
 * finds the same keys; a real ring unwraps stored keys instead. Keys can be disabled, as upstream would.
 */
final class TestKeyRing implements DataKeyRing {
    private final Map<String, UUID> keyOfDisk = new ConcurrentHashMap<>();
    private final Set<UUID> disabled = ConcurrentHashMap.newKeySet();

    @Override
    public UUID newKey(String diskId) {
        UUID id = UUID.randomUUID();
        keyOfDisk.put(diskId, id);
        return id;
    }

    @Override
    public Optional<SecretKey> key(UUID keyId) {
        if (disabled.contains(keyId)) {
            return Optional.empty();
        }
        try {
            byte[] material = MessageDigest.getInstance("SHA-256")
                    .digest(("test data key " + keyId).getBytes(StandardCharsets.UTF_8));
            return Optional.of(new SecretKeySpec(material, "AES"));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    UUID keyOf(String diskId) {
        return keyOfDisk.get(diskId);
    }

    void disable(UUID keyId) {
        disabled.add(keyId);
    }

    void enable(UUID keyId) {
        disabled.remove(keyId);
    }
}
