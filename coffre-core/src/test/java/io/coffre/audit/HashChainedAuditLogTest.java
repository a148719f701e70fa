package io.coffre.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.coffre.audit.AuditLog.Entry;
import io.coffre.store.MetadataStore;
import io.coffre.store.MetadataStores;
import io.coffre.time.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class HashChainedAuditLogTest {
    private final ManualClock clock = new ManualClock();
    private MetadataStore store;
    private AuditLog audit;

    @BeforeEach
    void open() {
        store = MetadataStores.h2InMemory("audit-" + UUID.randomUUID());
        audit = AuditLogs.open(store, clock);
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void anEmptyLogIsIntact() {
        assertThat(audit.verify()).isEmpty();
        assertThat(audit.list("", 10)).isEmpty();
    }

    @Test
    void aChainOfAThousandEntriesVerifiesAndLinksEachToThePrevious() {
        append(1000);
        assertThat(audit.verify()).isEmpty();
        List<Entry> entries = audit.list("", 1000);
        assertThat(entries).hasSize(1000);
        assertThat(entries.get(0).sequence()).isEqualTo(1000);
        assertThat(entries.get(999).sequence()).isEqualTo(1);
        assertThat(entries).allMatch(e -> e.hash().matches("[0-9a-f]{64}"));
        assertThat(entries.stream().map(Entry::hash).distinct()).hasSize(1000);
        String firstPrev = store.withHandle(h -> h.createQuery("SELECT prev_hash FROM audit_log WHERE sequence = 1")
                .mapTo(String.class).one());
        assertThat(firstPrev).isEqualTo("0".repeat(64));
        String secondPrev = store.withHandle(h -> h.createQuery("SELECT prev_hash FROM audit_log WHERE sequence = 2")
                .mapTo(String.class).one());
        assertThat(secondPrev).isEqualTo(entries.get(999).hash());
    }

    @Test
    void editingADetailIsDetected() {
        append(40);
        sql("UPDATE audit_log SET detail = 'nothing to see' WHERE sequence = 17");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 17 was changed"));
    }

    @Test
    void everyFieldIsCoveredByTheHash() {
        List<String> edits = List.of("time_millis = time_millis + 1", "principal_id = 'mallory'",
                "operation = 'get'", "resource = '/other'", "key_version = 'v2'", "allowed = NOT allowed",
                "detail = 'x'", "principal_id = NULL");
        for (String edit : edits) {
            store.close();
            open();
            append(5);
            sql("UPDATE audit_log SET " + edit + " WHERE sequence = 3");
            assertThat(audit.verify()).as(edit).hasValueSatisfying(p -> assertThat(p).startsWith("entry 3 was changed"));
        }
    }

    @Test
    void nullAndEmptyTextHashDifferently() {
        audit.record(null, "op", "/r", null, true, null);
        sql("UPDATE audit_log SET key_version = '' WHERE sequence = 1");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 1 was changed"));
    }

    @Test
    void fieldsCannotBeShiftedIntoEachOther() {
        String prev = "0".repeat(64);
        assertThat(HashChainedAuditLog.hash(1, 0, "ab", "c", "/r", null, true, null, prev))
                .isNotEqualTo(HashChainedAuditLog.hash(1, 0, "a", "bc", "/r", null, true, null, prev));
        assertThat(HashChainedAuditLog.hash(1, 0, "a", "b", "/r", "", true, null, prev))
                .isNotEqualTo(HashChainedAuditLog.hash(1, 0, "a", "b", "/r", null, true, "", prev));
    }

    @Test
    void deletingAMiddleEntryIsDetected() {
        append(40);
        sql("DELETE FROM audit_log WHERE sequence = 17");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 17 is missing (sequence gap"));
    }

    @Test
    void deletingTheFirstEntryIsDetected() {
        append(5);
        sql("DELETE FROM audit_log WHERE sequence = 1");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 1 is missing"));
    }

    @Test
    void deletingTheLastEntryIsDetectedThroughTheHead() {
        append(40);
        sql("DELETE FROM audit_log WHERE sequence = 40");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p)
                .isEqualTo("entry 40 is missing: the log ends at entry 39 but the head records entry 40"));
    }

    @Test
    void deletingEveryEntryIsDetected() {
        append(3);
        sql("DELETE FROM audit_log");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 1 is missing"));
    }

    @Test
    void reorderingEntriesIsDetected() {
        append(10);
        sql("UPDATE audit_log SET sequence = -1 WHERE sequence = 5");
        sql("UPDATE audit_log SET sequence = 5 WHERE sequence = 6");
        sql("UPDATE audit_log SET sequence = 6 WHERE sequence = -1");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 5 was changed"));
    }

    @Test
    void anEditWhoseHashWasRecomputedBreaksTheNextLink() {
        append(30);
        Entry original = audit.list("", 30).stream().filter(e -> e.sequence() == 17).findFirst().orElseThrow();
        String prev = store.withHandle(h -> h.createQuery("SELECT prev_hash FROM audit_log WHERE sequence = 17")
                .mapTo(String.class).one());
        String forged = HashChainedAuditLog.hash(17, original.timeMillis(), original.principalId(),
                original.operation(), original.resource(), original.keyVersion(), true, "forged", prev);
        sql("UPDATE audit_log SET allowed = TRUE, detail = 'forged', hash = '" + forged + "' WHERE sequence = 17");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 18 does not follow entry 17"));
    }

    @Test
    void anEntryAppendedPastTheHeadIsDetected() {
        append(5);
        Entry last = audit.list("", 1).get(0);
        String hash = HashChainedAuditLog.hash(6, 0, "mallory", "op", "/r", null, true, null, last.hash());
        sql("INSERT INTO audit_log (sequence, time_millis, principal_id, operation, resource, allowed, prev_hash,"
                + " hash) VALUES (6, 0, 'mallory', 'op', '/r', TRUE, '" + last.hash() + "', '" + hash + "')");
        assertThat(audit.verify()).hasValueSatisfying(p -> assertThat(p).startsWith("entry 6 was inserted"));
    }

    @Test
    void aMissingHeadIsReportedAndStopsAppends() {
        append(2);
        sql("DELETE FROM audit_head");
        assertThat(audit.verify()).contains("the audit head row is missing");
        assertThatThrownBy(() -> audit.record("p", "op", "/r", null, true, null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("head row is missing");
    }

    @Test
    @Timeout(120)
    void concurrentAppendsFormOneValidChain() throws Exception {
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            String principal = "thread-" + t;
            Thread thread = new Thread(() -> {
                try {
                    for (int i = 0; i < 500; i++) {
                        audit.record(principal, "wrapKey", "/vaults/kv/keys/k" + i, "v1", true, null);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).isEmpty();
        assertThat(audit.verify()).isEmpty();
        List<Entry> entries = audit.list("", 2000);
        assertThat(entries).hasSize(1000);
        assertThat(entries.stream().filter(e -> e.principalId().equals("thread-0"))).hasSize(500);
    }

    @Test
    @Timeout(120)
    void verifyingWhileOthersAppendFindsNoFalseBreak() throws Exception {
        AtomicBoolean done = new AtomicBoolean();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; !done.get(); i++) {
                    audit.record("w", "sign", "/r" + i, null, true, null);
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        });
        writer.start();
        try {
            for (int i = 0; i < 30; i++) {
                assertThat(audit.verify()).isEmpty();
            }
        } finally {
            done.set(true);
            writer.join();
        }
        assertThat(failures).isEmpty();
        assertThat(audit.verify()).isEmpty();
    }

    @Test
    void listIsNewestFirstFilteredByResourcePrefixAndLimited() {
        audit.record("alice", "create", "/subscriptions/s/vaults/kv1", null, true, null);
        audit.record("bob", "wrapKey", "/subscriptions/s/vaults/kv1/keys/k1", "v1", false, "Forbidden");
        audit.record("alice", "create", "/subscriptions/s/vaults/kv2", null, true, null);
        audit.record("alice", "unwrapKey", "/subscriptions/s/vaults/kv1/keys/k1", "v1", true, null);
        assertThat(audit.list("/subscriptions/s/vaults/kv1", 10)).extracting(Entry::sequence).containsExactly(4L, 2L,
                1L);
        assertThat(audit.list("/subscriptions/s/vaults/kv1/keys/", 1)).extracting(Entry::operation)
                .containsExactly("unwrapKey");
        assertThat(audit.list("", 2)).extracting(Entry::sequence).containsExactly(4L, 3L);
        assertThat(audit.list("/nothing", 10)).isEmpty();
        assertThatThrownBy(() -> audit.list("", 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void likeWildcardsInThePrefixAreLiteral() {
        audit.record("p", "op", "/vaults/kv_1", null, true, null);
        audit.record("p", "op", "/vaults/kvX1", null, true, null);
        audit.record("p", "op", "/vaults/100%/a", null, true, null);
        audit.record("p", "op", "/vaults/100x/a", null, true, null);
        audit.record("p", "op", "/vaults/back\\slash", null, true, null);
        assertThat(audit.list("/vaults/kv_", 10)).extracting(Entry::resource).containsExactly("/vaults/kv_1");
        assertThat(audit.list("/vaults/100%", 10)).extracting(Entry::resource).containsExactly("/vaults/100%/a");
        assertThat(audit.list("/vaults/back\\", 10)).extracting(Entry::resource)
                .containsExactly("/vaults/back\\slash");
    }

    @Test
    void entriesCarryWhatWasRecordedAndTheClocksTime() {
        clock.advance(Duration.ofDays(3));
        long before = clock.now().toEpochMilli();
        audit.record("sp-1", "unwrapKey", "/vaults/kv/keys/k", "abc123", false, "{\"reason\":\"no access\"}");
        Entry e = audit.list("", 1).get(0);
        assertThat(e.sequence()).isEqualTo(1);
        assertThat(e.timeMillis()).isBetween(before, clock.now().toEpochMilli());
        assertThat(e.principalId()).isEqualTo("sp-1");
        assertThat(e.operation()).isEqualTo("unwrapKey");
        assertThat(e.resource()).isEqualTo("/vaults/kv/keys/k");
        assertThat(e.keyVersion()).isEqualTo("abc123");
        assertThat(e.allowed()).isFalse();
        assertThat(e.detail()).isEqualTo("{\"reason\":\"no access\"}");
        audit.record(null, "token", "/oauth2/token", null, false, null);
        assertThat(audit.list("/oauth2", 1).get(0).principalId()).isNull();
    }

    @Test
    void operationAndResourceAreRequired() {
        assertThatThrownBy(() -> audit.record("p", null, "/r", null, true, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("operation");
        assertThatThrownBy(() -> audit.record("p", "op", null, null, true, null))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("resource");
        assertThat(audit.list("", 10)).isEmpty();
    }

    @Test
    void theLogSurvivesReopeningOnDisk(@TempDir Path dir) {
        try (MetadataStore onDisk = MetadataStores.h2(dir)) {
            AuditLog log = AuditLogs.open(onDisk, clock);
            log.record("p", "op", "/r", null, true, null);
            log.record("p", "op", "/r", null, true, null);
        }
        try (MetadataStore reopened = MetadataStores.h2(dir)) {
            AuditLog log = AuditLogs.open(reopened, clock);
            log.record("p", "op", "/r", null, true, null);
            assertThat(log.verify()).isEmpty();
            assertThat(log.list("", 10)).hasSize(3);
        }
    }

    private void append(int n) {
        for (int i = 1; i <= n; i++) {
            audit.record("principal-" + (i % 3), i % 2 == 0 ? "wrapKey" : "unwrapKey", "/vaults/kv/keys/k" + (i % 7),
                    "v" + (i % 4), i % 5 != 0, i % 5 == 0 ? "denied: missing permission" : null);
        }
    }

    private void sql(String statement) {
        store.withHandle(h -> h.execute(statement));
    }
}
