package io.coffre.keyvault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * A key name in a store ({@code kv_keys}): its rotation policy and, when soft-deleted, when it goes.
 *
 * @param rotationPolicy {@code {"lifetimeActions":[...],"attributes":{"expiryTime"?}}}, or null for the default
 */
record KeyRecord(String storeId, String nameLower, String name, ObjectNode rotationPolicy, Long policyCreated,
                 Long policyUpdated, Long deletedAt, Long scheduledPurgeAt) {

    boolean isDeleted() {
        return deletedAt != null;
    }

    static KeyRecord map(ResultSet rs) throws SQLException {
        return new KeyRecord(rs.getString("store_id"), rs.getString("name_lower"), rs.getString("name"),
                (ObjectNode) Rows.read(rs.getString("rotation_policy")),
                Rows.nullableLong(rs, "rotation_policy_created"), Rows.nullableLong(rs, "rotation_policy_updated"),
                Rows.nullableLong(rs, "deleted_at"), Rows.nullableLong(rs, "scheduled_purge_at"));
    }
}
