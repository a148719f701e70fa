package io.coffre.audit;

import io.coffre.store.MetadataStore;
import io.coffre.time.CoffreClock;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * The audit log as a hash chain in the metadata store. Entry n stores {@code hash = SHA-256(encoding(fields of n) ‖
 * hash of n-1)}, the first entry chaining to 32 zero bytes, and a one-row head table records the last sequence and
 * hash.
 *
 * <p>Appends lock the head row ({@code SELECT ... FOR UPDATE}), so concurrent appends, from this process or another
 * node on the same database, queue up and each extends the chain the previous one left.
 *
 * <p>What {@link #verify} proves: no entry up to the head was edited, removed, inserted or reordered, and no entry
 * was added past the head. The head is what makes removing the <em>last</em> entries visible: a log that simply
 * ends earlier is a valid chain on its own, but it no longer reaches the recorded head. Someone able to rewrite both
 * every later entry and the head can still forge a consistent log; catching that needs the head kept outside this
 * database (not done yet).
 */
final class HashChainedAuditLog implements AuditLog {
    static final String GENESIS = "0".repeat(64);
    private static final byte[] DOMAIN = "coffre-audit-v1".getBytes(StandardCharsets.UTF_8);
    private static final int PAGE = 1000;
    private static final String COLUMNS = "sequence, time_millis, principal_id, operation, resource, key_version,"
            + " allowed, detail, prev_hash, hash";

    private final MetadataStore store;
    private final CoffreClock clock;

    HashChainedAuditLog(MetadataStore store, CoffreClock clock) {
        this.store = store;
        this.clock = clock;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Runs in a transaction of its own, except when called inside another {@code inTransaction} on the same
     * thread: then it joins that one and disappears if it rolls back. Record a refusal after the failed
     * transaction, not inside it.
     */
    @Override
    public void record(String principalId, String operation, String resource, String keyVersion, boolean allowed,
                       String detail) {
        Objects.requireNonNull(operation, "operation");
        Objects.requireNonNull(resource, "resource");
        store.inTransaction(h -> {
            Head head = lockHead(h).orElseThrow(() -> new IllegalStateException(
                    "the audit head row is missing; run verify() and restore the audit tables from a backup"));
            long sequence = head.sequence() + 1;
            // read under the lock, so times never run backwards along the chain
            long time = clock.now().toEpochMilli();
            String hash = hash(sequence, time, principalId, operation, resource, keyVersion, allowed, detail,
                    head.hash());
            h.createUpdate("INSERT INTO audit_log (" + COLUMNS + ") VALUES (:sequence, :time, :principal,"
                            + " :operation, :resource, :keyVersion, :allowed, :detail, :prev, :hash)")
                    .bind("sequence", sequence).bind("time", time).bind("principal", principalId)
                    .bind("operation", operation).bind("resource", resource).bind("keyVersion", keyVersion)
                    .bind("allowed", allowed).bind("detail", detail).bind("prev", head.hash()).bind("hash", hash)
                    .execute();
            return h.createUpdate("UPDATE audit_head SET last_sequence = :sequence, last_hash = :hash WHERE id = 1")
                    .bind("sequence", sequence).bind("hash", hash).execute();
        });
    }

    @Override
    public List<Entry> list(String resourcePrefix, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1; got " + limit);
        }
        String pattern = (resourcePrefix == null ? "" : resourcePrefix).replace("\\", "\\\\").replace("%", "\\%")
                .replace("_", "\\_") + "%";
        return store.withHandle(h -> h.createQuery("SELECT " + COLUMNS + " FROM audit_log"
                        + " WHERE resource LIKE :pattern ESCAPE '\\' ORDER BY sequence DESC LIMIT :limit")
                .bind("pattern", pattern).bind("limit", limit)
                .map((rs, ctx) -> row(rs).entry()).list());
    }

    @Override
    public Optional<String> verify() {
        // The bulk of the chain is walked without blocking appends; only the tail up to the current head is
        // checked while holding the head lock, so the end of the log and the head are compared at one instant.
        Optional<Head> start = store.withHandle(HashChainedAuditLog::readHead);
        if (start.isEmpty()) {
            return Optional.of("the audit head row is missing");
        }
        Cursor cursor = new Cursor();
        Optional<String> problem = store.withHandle(h -> walk(h, cursor, start.get().sequence()));
        if (problem.isPresent()) {
            return problem;
        }
        return store.inTransaction(h -> {
            Optional<Head> locked = lockHead(h);
            if (locked.isEmpty()) {
                return Optional.of("the audit head row is missing");
            }
            Head head = locked.get();
            Optional<String> tail = walk(h, cursor, head.sequence());
            if (tail.isPresent()) {
                return tail;
            }
            if (cursor.sequence != head.sequence()) {
                return Optional.of("entry " + (cursor.sequence + 1) + " is missing: the log ends at entry "
                        + cursor.sequence + " but the head records entry " + head.sequence());
            }
            if (!cursor.hash.equals(head.hash())) {
                return Optional.of("entry " + head.sequence() + " was changed: its hash differs from the one the"
                        + " head recorded");
            }
            return h.createQuery("SELECT sequence FROM audit_log WHERE sequence < 1 OR sequence > :head"
                            + " ORDER BY sequence LIMIT 1")
                    .bind("head", head.sequence()).mapTo(Long.class).findOne()
                    .map(stray -> "entry " + stray + " was inserted outside the chain (the head records entry "
                            + head.sequence() + ")");
        });
    }

    /** Checks entries after {@code cursor} up to {@code upTo} and advances the cursor over the intact ones. */
    private static Optional<String> walk(Handle h, Cursor cursor, long upTo) {
        while (cursor.sequence < upTo) {
            List<Row> page = h.createQuery("SELECT " + COLUMNS + " FROM audit_log"
                            + " WHERE sequence > :after AND sequence <= :upTo ORDER BY sequence LIMIT " + PAGE)
                    .bind("after", cursor.sequence).bind("upTo", upTo)
                    .map((rs, ctx) -> row(rs)).list();
            if (page.isEmpty()) {
                return Optional.empty(); // the caller compares the cursor with the head
            }
            for (Row row : page) {
                long expected = cursor.sequence + 1;
                if (row.sequence() != expected) {
                    return Optional.of("entry " + expected + " is missing (sequence gap: entry " + cursor.sequence
                            + " is followed by entry " + row.sequence() + ")");
                }
                if (!row.hash().equals(row.recomputedHash())) {
                    return Optional.of("entry " + row.sequence() + " was changed: its content no longer matches"
                            + " its hash");
                }
                if (!row.prevHash().equals(cursor.hash)) {
                    return Optional.of("entry " + row.sequence() + " does not follow entry " + cursor.sequence
                            + ": an entry was changed, inserted or reordered there");
                }
                cursor.sequence = row.sequence();
                cursor.hash = row.hash();
            }
        }
        return Optional.empty();
    }

    /**
     * SHA-256 over an encoding no two different entries share: a version tag, fixed-width numbers, each text
     * field as its UTF-8 length (-1 for null, so null and "" differ) and bytes, then the previous hash's 32 bytes.
     *
     * @return lowercase hex, or a value no stored hash can equal if {@code prevHash} is not 64 hex digits
     */
    static String hash(long sequence, long timeMillis, String principalId, String operation, String resource,
                       String keyVersion, boolean allowed, String detail, String prevHash) {
        if (prevHash == null || !prevHash.matches("[0-9a-f]{64}")) {
            return "invalid previous hash";
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(DOMAIN.length);
            out.write(DOMAIN);
            out.writeLong(sequence);
            out.writeLong(timeMillis);
            writeText(out, principalId);
            writeText(out, operation);
            writeText(out, resource);
            writeText(out, keyVersion);
            out.writeBoolean(allowed);
            writeText(out, detail);
            out.write(HexFormat.of().parseHex(prevHash));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    private static void writeText(DataOutputStream out, String text) throws IOException {
        if (text == null) {
            out.writeInt(-1);
            return;
        }
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static Optional<Head> lockHead(Handle h) {
        return h.createQuery("SELECT last_sequence, last_hash FROM audit_head WHERE id = 1 FOR UPDATE")
                .map((rs, ctx) -> new Head(rs.getLong("last_sequence"), rs.getString("last_hash"))).findOne();
    }

    private static Optional<Head> readHead(Handle h) {
        return h.createQuery("SELECT last_sequence, last_hash FROM audit_head WHERE id = 1")
                .map((rs, ctx) -> new Head(rs.getLong("last_sequence"), rs.getString("last_hash"))).findOne();
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getLong("sequence"), rs.getLong("time_millis"), rs.getString("principal_id"),
                rs.getString("operation"), rs.getString("resource"), rs.getString("key_version"),
                rs.getBoolean("allowed"), rs.getString("detail"), rs.getString("prev_hash"), rs.getString("hash"));
    }

    private record Head(long sequence, String hash) {
    }

    private record Row(long sequence, long timeMillis, String principalId, String operation, String resource,
                       String keyVersion, boolean allowed, String detail, String prevHash, String hash) {
        String recomputedHash() {
            return HashChainedAuditLog.hash(sequence, timeMillis, principalId, operation, resource, keyVersion,
                    allowed, detail, prevHash);
        }

        Entry entry() {
            return new Entry(sequence, timeMillis, principalId, operation, resource, keyVersion, allowed, detail,
                    hash);
        }
    }

    /** The last intact entry reached so far. */
    private static final class Cursor {
        long sequence;
        String hash = GENESIS;
    }
}
