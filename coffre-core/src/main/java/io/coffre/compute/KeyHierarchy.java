package io.coffre.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.compute.disk.DiskKeyUnavailableException;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Function;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import org.jdbi.v3.core.Handle;

/**
 * The key hierarchy below a KEK version (DESIGN.md §6): one AES-256 DES key per domain (a DES, or the platform key
 * of a region), stored only wrapped by the KEK with RSA-OAEP-256 through the key service as the domain's principal,
 * and kept unwrapped in memory only; disk data keys (AES-256) stored wrapped by the DES key with AES-KW.
 */
final class KeyHierarchy {
    static final String KEK_ALGORITHM = "RSA-OAEP-256";
    private static final String AES_KW = "AESWrap";

    /**
     * A key domain: the DES (lower-case id) or {@code platform/{region}}, the principal that uses its KEK, and the
     * KEK version a first DES key is wrapped with.
     *
     * @param currentKek the domain's KEK version as stored now, read under a lock on the domain's row within the
     *                   transaction that stores a first DES key: a DES's key may change while its first use wraps
     *                   one, and the rotation that change starts finds no DES key to rewrap yet
     */
    record Domain(String id, Principal principal, String kekUrl, Function<Handle, String> currentKek) {
        /** A domain whose KEK version does not change under a first use (a region's platform key). */
        Domain(String id, Principal principal, String kekUrl) {
            this(id, principal, kekUrl, h -> kekUrl);
        }
    }

    /** Test seam: runs after a first DES key is wrapped and before it is stored. */
    static volatile Runnable beforeFirstDesKeyStored = () -> { };

    /** A stored wrapped DES key: which KEK version wraps it. */
    record Wrapped(String kekKeyId, byte[] wrapped) {
    }

    private final MetadataStore metadata;
    private final KeyService keyService;
    private final CoffreClock clock;
    private final io.coffre.Endpoints endpoints;
    private final SecureRandom random = new SecureRandom();
    /**
     * How long an unwrapped DES key is used before the KEK is asked again: a disabled or deleted key, or a removed
     * permission, stops reads and writes within this time (Azure also lets revocation take effect after a delay).
     */
    static final Duration REVALIDATE_AFTER = Duration.ofMinutes(10);

    private record CachedDesKey(SecretKey key, Instant unwrappedAt) {
    }

    private final ConcurrentMap<String, CachedDesKey> desKeys = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Object> creationLocks = new ConcurrentHashMap<>();
    /** Unwrapped data keys by id: they never change (rotation rewraps only the DES key), and disks ask per block. */
    private final ConcurrentMap<UUID, CachedDataKey> dataKeys = new ConcurrentHashMap<>();

    private record CachedDataKey(String domainId, SecretKey key) {
    }

    KeyHierarchy(MetadataStore metadata, KeyService keyService, CoffreClock clock, io.coffre.Endpoints endpoints) {
        this.metadata = metadata;
        this.keyService = keyService;
        this.clock = clock;
        this.endpoints = endpoints;
    }

    /** The domain's DES key: from memory, else unwrapped from its own stored copy, else created and stored wrapped. */
    SecretKey desKey(Domain domain) {
        if (isFresh(domain.id())) {
            return desKeys.get(domain.id()).key();
        }
        synchronized (creationLocks.computeIfAbsent(domain.id(), id -> new Object())) {
            if (isFresh(domain.id())) {
                return desKeys.get(domain.id()).key();
            }
            Optional<Wrapped> own = ownCopy(domain.id());
            SecretKey key;
            if (own.isPresent()) {
                try {
                    key = aes(unwrapWithKek(domain.principal(), own.get().kekKeyId(), own.get().wrapped()));
                } catch (RuntimeException e) {
                    evict(domain.id());
                    throw e;
                }
            } else {
                byte[] raw = new byte[32];
                random.nextBytes(raw);
                storeFirstDesKey(domain, raw);
                key = aes(raw);
                Arrays.fill(raw, (byte) 0);
            }
            desKeys.put(domain.id(), new CachedDesKey(key, clock.now()));
            return key;
        }
    }

    /**
     * Wraps a domain's first DES key under its KEK version and stores it, unless that version changed meanwhile:
     * then again under the new one. The check and the insert share a transaction holding the domain's row, so a key
     * change either comes first (and is seen here) or after (and its rotation finds the stored key to rewrap).
     */
    private void storeFirstDesKey(Domain domain, byte[] raw) {
        String kek = domain.kekUrl();
        while (true) {
            byte[] wrapped = wrapWithKek(domain.principal(), kek, raw);
            beforeFirstDesKeyStored.run();
            String wrappedWith = kek;
            String current = metadata.inTransaction(h -> {
                String now = domain.currentKek().apply(h);
                if (now.equalsIgnoreCase(wrappedWith)) {
                    h.createUpdate("INSERT INTO compute_wrapped_des_keys (owner_id, des_id, kek_key_id, wrapped)"
                                    + " VALUES (:id, :id, :kek, :wrapped)")
                            .bind("id", domain.id()).bind("kek", wrappedWith).bind("wrapped", wrapped).execute();
                }
                return now;
            });
            if (current.equalsIgnoreCase(wrappedWith)) {
                return;
            }
            kek = current;
        }
    }

    Optional<Wrapped> ownCopy(String domainId) {
        return metadata.withHandle(h -> h.createQuery("SELECT kek_key_id, wrapped FROM compute_wrapped_des_keys"
                        + " WHERE owner_id = :id AND des_id = :id").bind("id", domainId)
                .map((rs, ctx) -> new Wrapped(rs.getString("kek_key_id"), rs.getBytes("wrapped"))).findOne());
    }

    /** Forgets the in-memory DES key (the DES is gone). */
    void evict(String domainId) {
        desKeys.remove(domainId);
        dataKeys.values().removeIf(k -> k.domainId().equals(domainId));
    }

    /**
     * A data key already unwrapped in this process, while its DES key needs no revalidation, if it was last used in
     * {@code domainId} (in any domain when null).
     */
    Optional<SecretKey> cachedDataKey(UUID keyId, String domainId) {
        CachedDataKey cached = dataKeys.get(keyId);
        return cached != null && (domainId == null || cached.domainId().equals(domainId))
                && isFresh(cached.domainId()) ? Optional.of(cached.key()) : Optional.empty();
    }

    private boolean isFresh(String domainId) {
        CachedDesKey cached = desKeys.get(domainId);
        return cached != null && cached.unwrappedAt().plus(REVALIDATE_AFTER).isAfter(clock.now());
    }

    UUID newDataKey(Domain domain, String diskId) {
        SecretKey desKey = desKey(domain);
        byte[] raw = new byte[32];
        random.nextBytes(raw);
        SecretKey dataKey = aes(raw);
        byte[] wrapped;
        try {
            Cipher kw = Cipher.getInstance(AES_KW);
            kw.init(Cipher.WRAP_MODE, desKey);
            wrapped = kw.wrap(dataKey);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES key wrap is unavailable", e);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
        UUID id = UUID.randomUUID();
        metadata.inTransaction(h -> h.createUpdate("INSERT INTO compute_data_keys (key_id, des_id, disk_id, wrapped,"
                        + " created_at) VALUES (:id, :des, :disk, :wrapped, :now)")
                .bind("id", id.toString()).bind("des", domain.id()).bind("disk", diskId).bind("wrapped", wrapped)
                .bind("now", clock.now().getEpochSecond()).execute());
        dataKeys.put(id, new CachedDataKey(domain.id(), dataKey));
        return id;
    }

    /**
     * The domains holding a wrapping of a data key, oldest first: usually one; a disk restored from a manifest into
     * another DES adds the target's wrapping of the same key id (its blocks name the id, so it cannot change).
     */
    List<String> dataKeyDomains(UUID keyId) {
        return metadata.withHandle(h -> h.createQuery("SELECT des_id FROM compute_data_keys WHERE key_id = :id"
                + " ORDER BY created_at, des_id").bind("id", keyId.toString()).mapTo(String.class).list());
    }

    /** A data key as stored: wrapped with AES-KW by the DES key of {@code domainId}. */
    record WrappedDataKey(UUID keyId, String domainId, byte[] wrapped) {
    }

    /** One stored wrapping of each of the keys (the oldest where there are several); unknown ids are left out. */
    List<WrappedDataKey> wrappedDataKeys(Collection<UUID> keyIds) {
        List<WrappedDataKey> found = new ArrayList<>();
        for (UUID keyId : keyIds) {
            metadata.withHandle(h -> h.createQuery("SELECT des_id, wrapped FROM compute_data_keys WHERE key_id = :id"
                            + " ORDER BY created_at, des_id").bind("id", keyId.toString())
                    .map((rs, ctx) -> new WrappedDataKey(keyId, rs.getString(1), rs.getBytes(2))).findFirst())
                    .ifPresent(found::add);
        }
        return found;
    }

    /** A DES key from a wrapped copy (e.g. a recovery point's), unwrapped by its KEK version as {@code principal}. */
    SecretKey unwrapDesKey(Principal principal, String kekUrl, byte[] wrapped) {
        byte[] raw = unwrapWithKek(principal, kekUrl, wrapped);
        try {
            return aes(raw);
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    /** Unwraps a data key under one DES key and wraps it under another; the plaintext exists only in between. */
    static byte[] rewrapDataKey(UUID keyId, byte[] wrapped, SecretKey from, SecretKey to) {
        try {
            Cipher kw = Cipher.getInstance(AES_KW);
            kw.init(Cipher.UNWRAP_MODE, from);
            SecretKey dataKey = (SecretKey) kw.unwrap(wrapped, "AES", Cipher.SECRET_KEY);
            kw.init(Cipher.WRAP_MODE, to);
            return kw.wrap(dataKey);
        } catch (java.security.InvalidKeyException e) {
            throw ArmException.badRequest("InvalidWrappedKey", "The data key " + keyId + " does not unwrap under the"
                    + " DES key it names: the manifest's wrapped keys do not belong together. Use the keys exported"
                    + " with the same recovery point.");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES key wrap is unavailable", e);
        }
    }

    /** Stores a wrapping of a data key under a domain, unless the domain already holds one. */
    void insertDataKey(Handle h, UUID keyId, String domainId, String diskId, byte[] wrapped) {
        h.createUpdate("INSERT INTO compute_data_keys (key_id, des_id, disk_id, wrapped, created_at)"
                        + " SELECT :id, :des, :disk, :wrapped, :now WHERE NOT EXISTS (SELECT 1 FROM compute_data_keys"
                        + " WHERE key_id = :id AND des_id = :des)")
                .bind("id", keyId.toString()).bind("des", domainId).bind("disk", diskId).bind("wrapped", wrapped)
                .bind("now", clock.now().getEpochSecond()).execute();
    }

    Optional<SecretKey> dataKey(UUID keyId, Domain domain) {
        CachedDataKey cached = dataKeys.get(keyId);
        if (cached != null) {
            try {
                desKey(domain);
            } catch (ArmException e) {
                throw new DiskKeyUnavailableException(keyId, e.getMessage());
            }
            if (!cached.domainId().equals(domain.id())) {
                dataKeys.put(keyId, new CachedDataKey(domain.id(), cached.key())); // the next read's domain check
            }
            return Optional.of(cached.key());
        }
        Optional<byte[]> wrapped = metadata.withHandle(h -> h.createQuery(
                        "SELECT wrapped FROM compute_data_keys WHERE key_id = :id AND des_id = :des")
                .bind("id", keyId.toString()).bind("des", domain.id()).mapTo(byte[].class).findOne());
        if (wrapped.isEmpty()) {
            return Optional.empty();
        }
        SecretKey desKey;
        try {
            desKey = desKey(domain);
        } catch (ArmException e) {
            throw new DiskKeyUnavailableException(keyId, e.getMessage());
        }
        try {
            Cipher kw = Cipher.getInstance(AES_KW);
            kw.init(Cipher.UNWRAP_MODE, desKey);
            SecretKey key = (SecretKey) kw.unwrap(wrapped.get(), "AES", Cipher.SECRET_KEY);
            dataKeys.put(keyId, new CachedDataKey(domain.id(), key));
            return Optional.of(key);
        } catch (GeneralSecurityException e) {
            throw new DiskKeyUnavailableException(keyId, "it does not unwrap under its DES key (" + e.getMessage()
                    + ")");
        }
    }

    byte[] wrapWithKek(Principal principal, String kekUrl, byte[] raw) {
        return kekOperation(principal, kekUrl, "wrapkey", raw);
    }

    byte[] unwrapWithKek(Principal principal, String kekUrl, byte[] wrapped) {
        return kekOperation(principal, kekUrl, "unwrapkey", wrapped);
    }

    private byte[] kekOperation(Principal principal, String kekUrl, String operation, byte[] value) {
        KeyUrl kek = KeyUrl.parse(kekUrl, endpoints);
        ObjectNode body = Json.object().put("alg", KEK_ALGORITHM).put("value", Json.b64url(value));
        ObjectNode result = keyService.keyOperation(principal, kek.store(), kek.name(), kek.version(), operation,
                body);
        return Json.unb64url(result.path("value").asText(), "value");
    }

    private static SecretKey aes(byte[] raw) {
        return new SecretKeySpec(raw, "AES");
    }
}
