package io.coffre.keyvault;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.keyvault.crypto.KeyType;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * One version of a key ({@code kv_key_versions}): attributes, tags, release policy, the public JWK members and the
 * sealed private material. Times are Unix seconds.
 *
 * @param seq           creation order within the key (the latest version has the highest)
 * @param publicJwk     the public members only ({@code kty, n, e} / {@code kty, crv, x, y} / {@code kty})
 * @param releasePolicy the wire {@code release_policy} ({@code contentType, data, immutable}), or null
 */
record KeyVersion(String version, int seq, KeyType type, Integer keySize, String curve, List<String> keyOps,
                  boolean enabled, Long notBefore, Long expiresAt, boolean exportable, long created, long updated,
                  ObjectNode tags, ObjectNode releasePolicy, ObjectNode publicJwk, String thumbprint,
                  byte[] sealedMaterial) {

    KeyVersion withAttributes(List<String> keyOps, boolean enabled, Long notBefore, Long expiresAt, long updated,
                              ObjectNode tags, ObjectNode releasePolicy) {
        return new KeyVersion(version, seq, type, keySize, curve, keyOps, enabled, notBefore, expiresAt, exportable,
                created, updated, tags, releasePolicy, publicJwk, thumbprint, sealedMaterial);
    }

    static KeyVersion map(ResultSet rs) throws SQLException {
        List<String> ops = new ArrayList<>();
        ((ArrayNode) Rows.read(rs.getString("key_ops"))).forEach(op -> ops.add(op.asText()));
        return new KeyVersion(rs.getString("version"), rs.getInt("seq"), KeyType.fromWire(rs.getString("kty")),
                Rows.nullableInt(rs, "key_size"), rs.getString("curve"), List.copyOf(ops), rs.getBoolean("enabled"),
                Rows.nullableLong(rs, "not_before"), Rows.nullableLong(rs, "expires_at"), rs.getBoolean("exportable"),
                rs.getLong("created_at"), rs.getLong("updated_at"), (ObjectNode) Rows.read(rs.getString("tags")),
                (ObjectNode) Rows.read(rs.getString("release_policy")),
                (ObjectNode) Rows.read(rs.getString("public_jwk")), rs.getString("thumbprint"),
                rs.getBytes("sealed_material"));
    }
}
