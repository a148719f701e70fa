package io.coffre.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.vm.VirtualMachines;
import io.coffre.store.MetadataStore;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What compute offers the backup side (DESIGN.md §5, "Compute ↔ backup is two calls"): {@link #export} a restore
 * point or a snapshot as a manifest of ciphertext block objects and wrapped keys, and {@link #createDisks} from such a
 * manifest. The backup side copies objects and wrapped keys and never unwraps anything; compute unwraps under the
 * source DES (as that DES's identity) and rewraps under the target DES (as the target's identity). A manifest holds
 * no plaintext key: data keys wrapped by their DES key (AES-KW), DES keys wrapped by a KEK version.
 */
public interface RestorePointExports {
    String ROLE_OS = "OS";
    String ROLE_DATA = "Data";
    String ROLE_VMGS = "VMGS";

    /** Block {@code index} is the object {@code objectId} (SHA-256 {@code sha256}) under data key {@code dataKeyId}. */
    record Block(long index, String objectId, byte[] sha256, UUID dataKeyId) {
    }

    /**
     * One disk: its role ({@link #ROLE_OS}, {@link #ROLE_DATA}, {@link #ROLE_VMGS}), LUN (data disks), size and stored
     * blocks (the others read as zeros).
     *
     * @param sourceId the disk restore point or snapshot it was exported from
     */
    record DiskManifest(String sourceId, String role, Integer lun, long sizeBytes, List<Block> blocks) {
    }

    /** A data key wrapped (AES-KW) by the DES key of its {@link KeyDomain}. */
    record DataKey(UUID keyId, byte[] wrapped) {
    }

    /**
     * The keys of one encryption domain: the DES (its lower-case ARM id) or the platform key of a region
     * ({@code platform/{region}}), its DES key wrapped by the KEK version {@code kekKeyUrl}, and the data keys it
     * wraps.
     */
    record KeyDomain(String domainId, String kekKeyUrl, byte[] wrappedDesKey, List<DataKey> dataKeys) {
    }

    /** @param sourceId the restore point or snapshot exported */
    record Manifest(String sourceId, String location, List<DiskManifest> disks, List<KeyDomain> keys) {
        public ObjectNode toJson() {
            ObjectNode out = Json.object().put("sourceId", sourceId).put("location", location);
            ArrayNode diskArray = out.putArray("disks");
            for (DiskManifest disk : disks) {
                ObjectNode d = diskArray.addObject().put("sourceId", disk.sourceId()).put("role", disk.role())
                        .put("sizeBytes", disk.sizeBytes());
                if (disk.lun() != null) {
                    d.put("lun", disk.lun());
                }
                ArrayNode blocks = d.putArray("blocks");
                for (Block b : disk.blocks()) {
                    blocks.addObject().put("index", b.index()).put("objectId", b.objectId())
                            .put("sha256", Json.b64url(b.sha256())).put("dataKeyId", b.dataKeyId().toString());
                }
            }
            ArrayNode keyArray = out.putArray("keys");
            for (KeyDomain domain : keys) {
                ObjectNode k = keyArray.addObject().put("domainId", domain.domainId())
                        .put("kekKeyUrl", domain.kekKeyUrl()).put("wrappedDesKey", Json.b64url(domain.wrappedDesKey()));
                ArrayNode dataKeys = k.putArray("dataKeys");
                domain.dataKeys().forEach(dk -> dataKeys.addObject().put("keyId", dk.keyId().toString())
                        .put("wrapped", Json.b64url(dk.wrapped())));
            }
            return out;
        }

        /** @throws ArmException 400 {@code InvalidManifest} when the JSON is not a manifest */
        public static Manifest fromJson(JsonNode json) {
            try {
                List<DiskManifest> disks = new ArrayList<>();
                for (JsonNode d : required(json, "disks")) {
                    List<Block> blocks = new ArrayList<>();
                    for (JsonNode b : required(d, "blocks")) {
                        blocks.add(new Block(required(b, "index").asLong(), required(b, "objectId").asText(),
                                Json.unb64url(required(b, "sha256").asText(), "sha256"),
                                UUID.fromString(required(b, "dataKeyId").asText())));
                    }
                    disks.add(new DiskManifest(d.path("sourceId").asText(null), required(d, "role").asText(),
                            d.hasNonNull("lun") ? d.get("lun").asInt() : null, required(d, "sizeBytes").asLong(),
                            blocks));
                }
                List<KeyDomain> keys = new ArrayList<>();
                for (JsonNode k : required(json, "keys")) {
                    List<DataKey> dataKeys = new ArrayList<>();
                    for (JsonNode dk : required(k, "dataKeys")) {
                        dataKeys.add(new DataKey(UUID.fromString(required(dk, "keyId").asText()),
                                Json.unb64url(required(dk, "wrapped").asText(), "wrapped")));
                    }
                    keys.add(new KeyDomain(required(k, "domainId").asText(), required(k, "kekKeyUrl").asText(),
                            Json.unb64url(required(k, "wrappedDesKey").asText(), "wrappedDesKey"), dataKeys));
                }
                return new Manifest(json.path("sourceId").asText(null), required(json, "location").asText(), disks,
                        keys);
            } catch (IllegalArgumentException e) {
                throw ArmException.badRequest("InvalidManifest", "The manifest is malformed: " + e.getMessage()
                        + ". Pass the manifest as exported.");
            }
        }

        private static JsonNode required(JsonNode node, String field) {
            JsonNode value = node.path(field);
            if (value.isMissingNode() || value.isNull()) {
                throw new IllegalArgumentException("'" + field + "' is missing");
            }
            return value;
        }
    }

    /** Where the backup side keeps the ciphertext objects a manifest names. */
    interface ObjectReader {
        /** The object's bytes, or null when it has none by that id. */
        byte[] read(String objectId);
    }

    /**
     * Where restored disks go: one name per manifest OS or data disk, in the manifest's order (a VMGS becomes the
     * guest state of the restored OS disk); the disks are encrypted as {@code encryption} says (a DES, or the
     * platform key) and live in its region.
     */
    record Target(String subscriptionId, String resourceGroup, EncryptionKeys.Setting encryption,
                  List<String> diskNames) {
    }

    /** Exports restore points and snapshots of {@code disks} (all built by this package's factories). */
    static RestorePointExports open(MetadataStore metadata, DiskStore store, Disks disks,
                                    DiskEncryptionSets encryptionSets, RestorePoints restorePoints,
                                    VirtualMachines virtualMachines) {
        JdbcDisks jdbcDisks = (JdbcDisks) disks;
        return new ManifestExchange(metadata, store, jdbcDisks, (DesService) encryptionSets,
                List.of(jdbcDisks::exportSource, ((JdbcRestorePoints) restorePoints)::exportSource),
                virtualMachines::setGuestState);
    }

    /**
     * The manifest of a restore point ({@code .../restorePointCollections/{c}/restorePoints/{rp}}: all its disk
     * restore points) or of a snapshot ({@code .../snapshots/{s}}). Needs read access to it.
     */
    Manifest export(Principal caller, String sourceId);

    /** The ciphertext bytes of an object the manifest of {@code sourceId} names (SHA-256 checked). */
    byte[] readObject(Principal caller, String sourceId, String objectId);

    /**
     * Creates one Unattached {@code Microsoft.Compute/disks} resource per manifest OS or data disk, whose blocks are
     * the manifest's objects (read through {@code objects}, copied into compute's blob store, SHA-256 checked) and
     * whose data keys are rewrapped under the target's DES key. All or nothing: any mismatch ({@code
     * ManifestObjectMismatch}), missing key ({@code InvalidManifest}), missing permission ({@code
     * KeyVaultAccessForbidden}, naming the grant), unknown source DES ({@code SourceDiskEncryptionSetNotFound}) or
     * existing disk ({@code DiskAlreadyExists}) leaves nothing behind.
     *
     * @return the created disks as ARM resources, in the manifest's order
     */
    List<ObjectNode> createDisks(Principal caller, Manifest manifest, ObjectReader objects, Target target);
}
