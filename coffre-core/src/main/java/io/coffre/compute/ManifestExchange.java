package io.coffre.compute;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.arm.ResourceId;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.disk.DiskStore.StoredBlock;
import io.coffre.identity.Principal;
import io.coffre.store.MetadataStore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;

/** {@link RestorePointExports} over the disk store, the disks and the key hierarchy of the DES service. */
final class ManifestExchange implements RestorePointExports {
    /** A disk of an export source: where it came from, what it is, and its frozen block map in the disk store. */
    record SourceDisk(String sourceId, String role, Integer lun, String storeId) {
    }

    /** @param keyOwnerId who holds the copies of the wrapped DES keys the export carries */
    record Source(String id, String location, String keyOwnerId, List<SourceDisk> disks) {
    }

    /** Finds what an id names (a snapshot, a restore point ...), checking the caller may read it. */
    interface Sources {
        Optional<Source> find(Principal caller, ResourceId id);
    }

    private final MetadataStore metadata;
    private final DiskStore store;
    private final JdbcDisks disks;
    private final DesService keys;
    private final List<Sources> sources;
    private final BiConsumer<String, String> guestStates;

    /** @param guestStates gives a restored OS disk its restored VM guest state (disk id, disk store id) */
    ManifestExchange(MetadataStore metadata, DiskStore store, JdbcDisks disks, DesService keys,
                     List<Sources> sources, BiConsumer<String, String> guestStates) {
        this.metadata = metadata;
        this.store = store;
        this.disks = disks;
        this.keys = keys;
        this.sources = sources;
        this.guestStates = guestStates;
    }

    @Override
    public Manifest export(Principal caller, String sourceId) {
        Source source = source(caller, sourceId);
        List<DiskManifest> manifests = new ArrayList<>();
        Set<UUID> keyIds = new LinkedHashSet<>();
        for (SourceDisk disk : source.disks()) {
            List<Block> blocks = store.storedBlocks(disk.storeId()).stream()
                    .map(b -> new Block(b.index(), b.objectId(), b.sha256(), b.keyId())).toList();
            blocks.forEach(b -> keyIds.add(b.dataKeyId()));
            manifests.add(new DiskManifest(disk.sourceId(), disk.role(), disk.lun(),
                    store.info(disk.storeId()).sizeBytes(), blocks));
        }
        return new Manifest(source.id(), source.location(), manifests, keys.exportKeys(keyIds, source.keyOwnerId()));
    }

    @Override
    public byte[] readObject(Principal caller, String sourceId, String objectId) {
        Source source = source(caller, sourceId);
        for (SourceDisk disk : source.disks()) {
            try {
                return store.readObject(disk.storeId(), objectId);
            } catch (ArmException e) {
                if (!e.code().equals(DiskStore.OBJECT_NOT_FOUND)) {
                    throw e;
                }
            }
        }
        throw ArmException.notFound(DiskStore.OBJECT_NOT_FOUND, "No disk of " + source.id() + " holds the object "
                + objectId + "; take object ids from its manifest.");
    }

    @Override
    public List<ObjectNode> createDisks(Principal caller, Manifest manifest, ObjectReader objects, Target target) {
        List<DiskManifest> resources = manifest.disks().stream().filter(d -> !d.role().equals(ROLE_VMGS)).toList();
        Optional<DiskManifest> guestState = manifest.disks().stream().filter(d -> d.role().equals(ROLE_VMGS))
                .findFirst();
        int osDisk = indexOfOsDisk(resources);
        if (guestState.isPresent() && osDisk < 0) {
            throw ArmException.badRequest("InvalidManifest", "The manifest has a VM guest state but no OS disk to"
                    + " carry it. Pass the manifest as exported.");
        }
        if (target.diskNames() == null || target.diskNames().size() != resources.size()) {
            throw ArmException.badRequest("InvalidParameter", "Name each of the manifest's " + resources.size()
                    + " OS and data disks once (in its order); " + (target.diskNames() == null ? 0
                    : target.diskNames().size()) + " names were given.");
        }
        if (Set.copyOf(target.diskNames().stream().map(String::toLowerCase).toList()).size()
                != target.diskNames().size()) {
            throw ArmException.badRequest("InvalidParameter", "The target disk names must differ: "
                    + target.diskNames());
        }
        List<ResourceId> ids = target.diskNames().stream()
                .map(name -> disks.newRestoredDisk(caller, target.subscriptionId(), target.resourceGroup(), name))
                .toList();
        checkKeysCarried(manifest);
        DesService.RewrappedKeys rewrapped = keys.rewrap(caller, manifest.keys(), target.encryption());
        List<String> imported = new ArrayList<>();
        try {
            for (DiskManifest disk : resources) {
                imported.add(importDisk(disk, objects, target));
            }
            String guestStateStore = guestState.isPresent() ? importDisk(guestState.get(), objects, target) : null;
            if (guestStateStore != null) {
                imported.add(guestStateStore);
            }
            metadata.inTransaction(h -> {
                for (int i = 0; i < ids.size(); i++) {
                    keys.storeRewrapped(h, rewrapped, keyIds(resources.get(i)), imported.get(i));
                    disks.insertRestored(h, ids.get(i), imported.get(i), target.encryption(),
                            resources.get(i).sourceId());
                }
                if (guestStateStore != null) {
                    keys.storeRewrapped(h, rewrapped, keyIds(guestState.get()), guestStateStore);
                }
                return null;
            });
            if (guestStateStore != null) {
                guestStates.accept(ids.get(osDisk).toString(), guestStateStore);
            }
        } catch (RuntimeException e) {
            imported.forEach(store::delete);
            keys.forgetDataKeysOf(imported);
            throw e;
        }
        return ids.stream().map(disks::render).toList();
    }

    private String importDisk(DiskManifest disk, ObjectReader objects, Target target) {
        List<StoredBlock> blocks = disk.blocks().stream()
                .map(b -> new StoredBlock(b.index(), b.objectId(), b.sha256(), b.dataKeyId())).toList();
        return store.importDisk(disk.sizeBytes(), blocks, b -> objects.read(b.objectId()),
                keys.ring(target.encryption()));
    }

    private static int indexOfOsDisk(List<DiskManifest> disks) {
        for (int i = 0; i < disks.size(); i++) {
            if (disks.get(i).role().equals(ROLE_OS)) {
                return i;
            }
        }
        return -1;
    }

    private static Set<UUID> keyIds(DiskManifest disk) {
        return disk.blocks().stream().map(Block::dataKeyId).collect(Collectors.toSet());
    }

    /** Every block's data key is among the manifest's wrapped keys. */
    private static void checkKeysCarried(Manifest manifest) {
        Set<UUID> wrappedIds = manifest.keys().stream().flatMap(k -> k.dataKeys().stream()).map(DataKey::keyId)
                .collect(Collectors.toSet());
        for (DiskManifest disk : manifest.disks()) {
            for (Block block : disk.blocks()) {
                if (!wrappedIds.contains(block.dataKeyId())) {
                    throw ArmException.badRequest("InvalidManifest", "Block " + block.index() + " of "
                            + disk.sourceId() + " needs data key " + block.dataKeyId() + ", which the manifest's"
                            + " keys do not carry. Pass the keys exported with the same manifest.");
                }
            }
        }
    }

    private Source source(Principal caller, String sourceId) {
        ResourceId id = ResourceId.parse(sourceId);
        for (Sources kind : sources) {
            Optional<Source> found = kind.find(caller, id);
            if (found.isPresent()) {
                return found.get();
            }
        }
        throw ArmException.badRequest("InvalidParameter", sourceId + " cannot be exported: export a restore point"
                + " (.../restorePointCollections/{c}/restorePoints/{rp}) or a snapshot (.../snapshots/{s}).");
    }
}
