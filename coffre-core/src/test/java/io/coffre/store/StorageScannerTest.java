package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class StorageScannerTest {
    private final Random random = new Random(20260101);
    private final byte[] secret = bytes(32);
    private MetadataStore md;
    private InMemoryBlobStore blobs;

    @BeforeEach
    void open() {
        md = MetadataStores.h2InMemory("scanner-" + UUID.randomUUID());
        md.withHandle(h -> h.execute("CREATE TABLE scan_keys (kid VARCHAR(64) PRIMARY KEY, material BYTEA,"
                + " jwk VARCHAR, version BIGINT)"));
        blobs = new InMemoryBlobStore();
    }

    @AfterEach
    void close() {
        md.close();
    }

    @Test
    void findsRawBytesInABinaryColumnAndNamesTheRow() {
        insertKey("k1", bytes(40), "{}");
        insertKey("k2", bytes(40), "{}");
        byte[] material = concat(bytes(7), secret, bytes(9));
        insertKey("k3", material, "{}");
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length))
                .containsExactly("table scan_keys row 3 [kid=k3] column material offset 7");
    }

    @Test
    void findsBase64UrlInsideAJsonColumn() {
        String jwk = "{\"kty\":\"oct\",\"k\":\"" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret)
                + "\"}";
        insertKey("k1", bytes(40), jwk);
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length))
                .singleElement().asString().startsWith("table scan_keys row 1 [kid=k1] column jwk base64 at offset ");
    }

    @Test
    void findsSecretsInTheRealTablesToo() {
        md.withHandle(h -> h.createUpdate("INSERT INTO subscriptions (subscription_id, tenant_id, display_name, flags)"
                + " VALUES ('s1', 't1', 'Coffre', :flags)").bind("flags", "[\"" + HexFormat.of().withUpperCase()
                .formatHex(secret) + "\"]").execute());
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length))
                .singleElement().asString().startsWith("table subscriptions row 1 [subscription_id=s1] column flags hex");
    }

    @Test
    void findsABlobAtItsOffset() {
        blobs.put("other", bytes(1000));
        blobs.put("vaults/x/y", concat(bytes(123), secret, bytes(500)));
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length))
                .containsExactly("blob vaults/x/y offset 123");
    }

    @Test
    void findsWrappedBase64InABlobAndEncodingsInsideEncodings() {
        String pem = "-----BEGIN KEY-----\n" + Base64.getMimeEncoder(16, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(concat(bytes(5), secret)) + "\n-----END KEY-----\n";
        blobs.put("pem", pem.getBytes(StandardCharsets.US_ASCII));
        String json = "{\"wrapped\":\"" + Base64.getUrlEncoder().encodeToString(secret) + "\"}";
        blobs.put("nested", Base64.getEncoder().encode(json.getBytes(StandardCharsets.UTF_8)));
        // the armour's dashes are base64url characters, so the run starts inside it: only its alignment matters
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length)).hasSize(2)
                .anyMatch(hit -> hit.startsWith("blob pem base64 at offset "))
                .contains("blob nested base64 at offset 0 > base64 at offset 12");
    }

    @Test
    void findsAPartOfTheSecretWhenTheWindowIsSmaller() {
        byte[] part = Arrays.copyOfRange(secret, 5, 25);
        blobs.put("part", concat(bytes(3), part));
        assertThat(StorageScanner.findBytes(md, blobs, secret, secret.length)).isEmpty();
        assertThat(StorageScanner.findBytes(md, blobs, secret, 16)).containsExactly("blob part offset 3");
    }

    @Test
    @Timeout(20)
    void findsNothingInMegabytesOfUnrelatedData() {
        for (int i = 0; i < 50; i++) {
            insertKey("k" + i, bytes(64), "{\"k\":\"" + Base64.getUrlEncoder().encodeToString(bytes(32)) + "\"}");
        }
        blobs.put("random", bytes(3 << 20));
        blobs.put("text", Base64.getMimeEncoder().encode(bytes(1 << 20)));
        blobs.put("hex", HexFormat.of().formatHex(bytes(256 * 1024)).getBytes(StandardCharsets.US_ASCII));
        assertThat(StorageScanner.findBytes(md, blobs, secret, 12)).isEmpty();
        // and the same data with the secret dropped in is caught
        blobs.put("text", concat(Base64.getMimeEncoder().encode(bytes(1 << 20)), "\n".getBytes(StandardCharsets.US_ASCII),
                Base64.getEncoder().encode(secret)));
        assertThat(StorageScanner.findBytes(md, blobs, secret, 12)).singleElement().asString().startsWith("blob text");
    }

    @Test
    void windowMustFitTheSecret() {
        assertThatThrownBy(() -> StorageScanner.findBytes(md, blobs, secret, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StorageScanner.findBytes(md, blobs, secret, 33))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private void insertKey(String kid, byte[] material, String jwk) {
        md.withHandle(h -> h.createUpdate("INSERT INTO scan_keys (kid, material, jwk, version) VALUES (:k, :m, :j, 1)")
                .bind("k", kid).bind("m", material).bind("j", jwk).execute());
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int o = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }
}
