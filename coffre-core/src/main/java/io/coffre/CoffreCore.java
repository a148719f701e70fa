package io.coffre;

import io.coffre.arm.AsyncOperations;
import io.coffre.arm.ResourceIndex;
import io.coffre.arm.ResourceManager;
import io.coffre.attestation.AttestationService;
import io.coffre.attestation.Attestations;
import io.coffre.authorization.Authorization;
import io.coffre.catalog.SupportMatrix;
import io.coffre.features.Features;
import io.coffre.audit.AuditLog;
import io.coffre.audit.AuditLogs;
import io.coffre.compute.DiskEncryptionSets;
import io.coffre.compute.Disks;
import io.coffre.compute.EncryptionKeys;
import io.coffre.compute.RestorePointExports;
import io.coffre.compute.RestorePoints;
import io.coffre.compute.disk.DataKeyRing;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.disk.DiskStores;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.compute.vm.VmSizeCatalog;
import io.coffre.identity.Identities;
import io.coffre.identity.Identity;
import io.coffre.json.Json;
import io.coffre.keyvault.KeyService;
import io.coffre.keyvault.KeyServices;
import io.coffre.seal.MasterKey;
import io.coffre.store.BlobStore;
import io.coffre.store.BlobStores;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.CoffreClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything Coffre is, without HTTP: the storage seams, the clock and the capabilities built on them. The server,
 * the benchmarks and in-process tests all start from here.
 */
public final class CoffreCore implements AutoCloseable {
    public static final String ADMIN_TOKEN_FILE = "admin-token";
    public static final String ADMIN_CREDENTIALS_FILE = "admin-credentials.json";
    private static final Duration ADMIN_TOKEN_LIFETIME = Duration.ofDays(3650);
    private static final int ASYNC_THREADS = Math.max(4, Runtime.getRuntime().availableProcessors());

    private final Endpoints endpoints;
    private final CoffreClock clock;
    private final MetadataStore metadata;
    private final BlobStore blobs;
    private final Identity identity;
    private final AttestationService attestation;
    private final ResourceIndex resourceIndex;
    private final AsyncOperations asyncOperations;
    private final Authorization accessControl;
    private final ResourceManager resourceManager;
    private final AuditLog audit;
    private final KeyService keyService;
    private final SupportMatrix supportMatrix;
    private final Features features;
    private final DiskEncryptionSets diskEncryptionSets;
    private final DiskStore diskStore;
    private final Disks disks;
    private final VirtualMachines virtualMachines;
    private final VmSizeCatalog vmSizes;
    private final RestorePoints restorePoints;
    private final RestorePointExports restorePointExports;

    /** {@link #open(Path, Path, Endpoints, CoffreClock, SupportMatrix)} with the {@code default} support matrix. */
    public static CoffreCore open(Path dataDir, Path masterKeyFile, Endpoints endpoints, CoffreClock clock) {
        return open(dataDir, masterKeyFile, endpoints, clock, SupportMatrix.load("default"));
    }

    /** The embedded default: H2 and files under {@code dataDir}; the admin's token and credentials written there. */
    public static CoffreCore open(Path dataDir, Path masterKeyFile, Endpoints endpoints, CoffreClock clock,
                                  SupportMatrix supportMatrix) {
        return open(dataDir, masterKeyFile, endpoints, clock, supportMatrix, null, null);
    }

    /**
     * As {@link #open(Path, Path, Endpoints, CoffreClock, SupportMatrix)} with the metadata in the database server
     * {@code database} names and the blobs in the S3 bucket {@code blobs} names (scale-out), each in the data
     * directory instead when null.
     */
    public static CoffreCore open(Path dataDir, Path masterKeyFile, Endpoints endpoints, CoffreClock clock,
                                  SupportMatrix supportMatrix, MetadataStores.Database database,
                                  BlobStores.S3Location blobs) {
        MasterKey masterKey = MasterKey.resolve(masterKeyFile, dataDir);
        MetadataStore metadata = database == null ? MetadataStores.h2(dataDir.resolve("db"))
                : MetadataStores.server(database);
        BlobStore blobStore = blobs == null ? BlobStores.fileSystem(dataDir.resolve("blobs")) : BlobStores.s3(blobs);
        CoffreCore core;
        try {
            core = new CoffreCore(metadata, blobStore, masterKey, endpoints, clock, supportMatrix);
        } catch (RuntimeException e) {
            metadata.close();
            blobStore.close();
            throw e;
        }
        core.writeAdminFiles(dataDir);
        return core;
    }

    public CoffreCore(MetadataStore metadata, BlobStore blobs, MasterKey masterKey, Endpoints endpoints,
                      CoffreClock clock, SupportMatrix supportMatrix) {
        this.metadata = metadata;
        this.supportMatrix = supportMatrix;
        this.blobs = blobs;
        this.endpoints = endpoints;
        this.clock = clock;
        this.identity = Identities.open(metadata, masterKey.sealer(), endpoints, clock);
        this.attestation = Attestations.open(metadata, masterKey.sealer(), endpoints, clock);
        this.resourceIndex = ResourceIndex.open(metadata);
        this.asyncOperations = AsyncOperations.open(metadata, clock, ASYNC_THREADS);
        // RBAC checks scopes through the resource manager, which authorises through RBAC: bound late.
        this.accessControl = Authorization.open(metadata, identity, scope -> resourceManager().requireScope(scope),
                clock);
        this.resourceManager = ResourceManager.open(metadata, resourceIndex, accessControl);
        this.audit = AuditLogs.open(metadata, clock);
        this.keyService = KeyServices.open(metadata, masterKey.sealer(), endpoints, clock, identity, accessControl,
                resourceManager, resourceIndex, audit, attestation);
        this.features = Features.open(metadata, resourceManager, accessControl, clock);
        this.diskEncryptionSets = DiskEncryptionSets.open(metadata, identity, accessControl, resourceManager,
                resourceIndex, keyService, asyncOperations, endpoints, clock);
        this.diskStore = DiskStores.open(metadata, blobs, keyResolver(diskEncryptionSets.encryptionKeys()));
        this.disks = Disks.open(metadata, diskStore, diskEncryptionSets, resourceIndex, accessControl, clock);
        this.virtualMachines = VirtualMachines.open(metadata, disks, diskStore, diskEncryptionSets, resourceIndex,
                accessControl, asyncOperations, keyService, attestation, identity, endpoints, clock);
        this.vmSizes = new VmSizeCatalog(resourceManager, accessControl);
        this.restorePoints = RestorePoints.open(metadata, diskStore, disks, diskEncryptionSets, virtualMachines,
                resourceIndex, accessControl, asyncOperations, supportMatrix, clock);
        this.restorePointExports = RestorePointExports.open(metadata, diskStore, disks, diskEncryptionSets,
                restorePoints, virtualMachines);
        // Last: every provider has registered its resumers by now.
        asyncOperations.resumeInterrupted();
    }

    /**
     * The disk store's own ring: it resolves any data key id (each ring of {@link EncryptionKeys} does), while new
     * keys always come from the ring of the disk's own encryption setting ({@link DiskStore#create(long,
     * io.coffre.compute.disk.DiskSource, DataKeyRing)}).
     */
    private static DataKeyRing keyResolver(EncryptionKeys keys) {
        DataKeyRing anyRing = keys.ring(new EncryptionKeys.Setting(null, null, null));
        return new DataKeyRing() {
            @Override
            public java.util.UUID newKey(String diskId) {
                throw new IllegalStateException("a disk's data key comes from its own encryption setting's ring");
            }

            @Override
            public java.util.Optional<javax.crypto.SecretKey> key(java.util.UUID keyId) {
                return anyRing.key(keyId);
            }

            @Override
            public java.util.Optional<javax.crypto.SecretKey> key(java.util.UUID keyId, String readerId) {
                return anyRing.key(keyId, readerId);
            }
        };
    }

    /** A token for every Coffre audience, so the CLI works out of the box; the secret only on first start. */
    private void writeAdminFiles(Path dataDir) {
        Identities.newAdminSecret(identity).ifPresent(secret -> {
            Map<String, String> credentials = new LinkedHashMap<>();
            credentials.put("tenantId", identity.tenantId());
            credentials.put("clientId", identity.admin().appId());
            credentials.put("clientSecret", secret);
            credentials.put("objectId", identity.admin().objectId());
            writePrivate(dataDir.resolve(ADMIN_CREDENTIALS_FILE), Json.write(credentials));
        });
        String token = identity.issueToken(identity.admin(), List.of(endpoints.managementResource(),
                endpoints.vaultResource(), endpoints.managedHsmResource(), endpoints.graphResource()),
                ADMIN_TOKEN_LIFETIME);
        writePrivate(dataDir.resolve(ADMIN_TOKEN_FILE), token);
    }

    private static void writePrivate(Path file, String content) {
        try {
            Files.deleteIfExists(file);
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    public Endpoints endpoints() {
        return endpoints;
    }

    public CoffreClock clock() {
        return clock;
    }

    public MetadataStore metadata() {
        return metadata;
    }

    public BlobStore blobs() {
        return blobs;
    }

    public Identity identity() {
        return identity;
    }

    public AttestationService attestation() {
        return attestation;
    }

    public ResourceIndex resourceIndex() {
        return resourceIndex;
    }

    public AsyncOperations asyncOperations() {
        return asyncOperations;
    }

    /** Management-plane RBAC: checks ({@link io.coffre.identity.AccessControl}) and role assignments. */
    public Authorization accessControl() {
        return accessControl;
    }

    public ResourceManager resourceManager() {
        return resourceManager;
    }

    /** The tamper-evident log of every key-service call. */
    public AuditLog audit() {
        return audit;
    }

    /** Microsoft.KeyVault: vaults, managed HSMs and their keys. */
    public KeyService keyService() {
        return keyService;
    }

    /** What confidential-VM backup, restore and restore points support (the server's {@code --matrix}). */
    public SupportMatrix supportMatrix() {
        return supportMatrix;
    }

    /** Microsoft.Features: preview features and subscription flags. */
    public Features features() {
        return features;
    }

    /** Microsoft.Compute/diskEncryptionSets and the key hierarchy under them (rotation included). */
    public DiskEncryptionSets diskEncryptionSets() {
        return diskEncryptionSets;
    }

    /** Where disks get their data keys: a DES (CMK) or the platform key of their region (PMK). */
    public EncryptionKeys encryptionKeys() {
        return diskEncryptionSets.encryptionKeys();
    }

    /** The encrypted block store under every disk, snapshot and restore point. */
    public DiskStore diskStore() {
        return diskStore;
    }

    /** Microsoft.Compute disks and snapshots. */
    public Disks disks() {
        return disks;
    }

    /**
     * Microsoft.Compute virtual machines (confidential VMs, key release at create and start) and the NBD exports of
     * their disks while they run ({@link VirtualMachines#serveNbd}).
     */
    public VirtualMachines virtualMachines() {
        return virtualMachines;
    }

    /** The VM sizes each region offers, as {@code vmSizes} and {@code skus} list them. */
    public VmSizeCatalog vmSizes() {
        return vmSizes;
    }

    /** Microsoft.Compute restore point collections, restore points and disk restore points. */
    public RestorePoints restorePoints() {
        return restorePoints;
    }

    /** What compute offers the backup side: manifests of restore points and snapshots, disks created from them. */
    public RestorePointExports restorePointExports() {
        return restorePointExports;
    }

    @Override
    public void close() {
        // the NBD server first: its connections flush into the disk store before the store closes
        virtualMachines.close();
        diskStore.close();
        diskEncryptionSets.close();
        keyService.close();
        asyncOperations.close();
        blobs.close();
        metadata.close();
    }
}
