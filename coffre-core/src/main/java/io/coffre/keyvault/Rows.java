package io.coffre.keyvault;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.sql.ResultSet;
import java.sql.SQLException;

/** Column helpers for the key service's tables: JSON text columns and nullable numbers. */
final class Rows {
    private Rows() {
    }

    /** Parses a JSON column this service wrote; unreadable JSON there is corruption, not a caller's error. */
    static JsonNode read(String json) {
        if (json == null) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored JSON column is unreadable", e);
        }
    }

    static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int value = rs.getInt(column);
        return rs.wasNull() ? null : value;
    }
}
