package io.coffre.compute;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

/** One Disk Encryption Set as stored ({@code compute_disk_encryption_sets}). Times are Unix seconds. */
record DesRecord(String desKey, String armId, String subscriptionId, String resourceGroup, String name,
                 String location, String encryptionType, String keyUrl, String sourceVaultId,
                 boolean rotationToLatest, String principalId, String tenantId, ArrayNode previousKeys,
                 Long lastRotationAt, ObjectNode autoRotationError, ObjectNode tags, long createdAt) {

    static DesRecord map(ResultSet rs) throws SQLException {
        String error = rs.getString("auto_rotation_error");
        String tags = rs.getString("tags");
        long lastRaw = rs.getLong("last_rotation_at");
        Long last = rs.wasNull() ? null : lastRaw; // wasNull describes the column read last: ask right away
        return new DesRecord(rs.getString("des_key"), rs.getString("arm_id"), rs.getString("subscription_id"),
                rs.getString("resource_group"), rs.getString("name"), rs.getString("location"),
                rs.getString("encryption_type"), rs.getString("key_url"), rs.getString("source_vault_id"),
                rs.getBoolean("rotation_to_latest"), rs.getString("principal_id"), rs.getString("tenant_id"),
                (ArrayNode) Json.parse(rs.getString("previous_keys")), last,
                error == null ? null : (ObjectNode) Json.parse(error),
                tags == null ? null : (ObjectNode) Json.parse(tags), rs.getLong("created_at"));
    }

    /** The ARM resource (reference §3.3). */
    ObjectNode render() {
        ObjectNode r = Json.object();
        r.put("id", armId);
        r.put("name", name);
        r.put("type", DiskEncryptionSets.RESOURCE_TYPE);
        r.put("location", location);
        if (tags != null) {
            r.set("tags", tags);
        }
        r.putObject("identity").put("type", "SystemAssigned").put("principalId", principalId)
                .put("tenantId", tenantId);
        ObjectNode p = r.putObject("properties");
        p.put("encryptionType", encryptionType);
        ObjectNode active = p.putObject("activeKey");
        active.put("keyUrl", keyUrl);
        if (sourceVaultId != null) {
            active.putObject("sourceVault").put("id", sourceVaultId);
        }
        p.put("rotationToLatestKeyVersionEnabled", rotationToLatest);
        ArrayNode previous = p.putArray("previousKeys");
        previousKeys.forEach(url -> previous.addObject().put("keyUrl", url.asText()));
        if (lastRotationAt != null) {
            p.put("lastKeyRotationTimestamp", Instant.ofEpochSecond(lastRotationAt).toString());
        }
        if (autoRotationError != null) {
            p.set("autoKeyRotationError", autoRotationError);
        }
        p.put("provisioningState", "Succeeded");
        return r;
    }
}
