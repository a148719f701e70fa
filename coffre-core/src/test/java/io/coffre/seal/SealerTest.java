package io.coffre.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SealerTest {
    private static final byte[] CONTEXT = "key:kv1/disk-key/0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private final Sealer sealer = new Sealer(Sealer.newKey());

    @Property(tries = 200)
    void opensWhatItSealed(@ForAll @Size(max = 4096) byte[] plaintext, @ForAll @Size(max = 64) byte[] context) {
        byte[] sealed = sealer.seal(plaintext, context);
        assertThat(sealed).hasSize(1 + Sealer.NONCE_BYTES + plaintext.length + Sealer.TAG_BYTES);
        assertThat(sealer.open(sealed, context)).isEqualTo(plaintext);
    }

    @Test
    void sealedFormatIsVersionNonceCiphertextTagWithAFreshNonceEachTime() {
        byte[] plaintext = "secret".getBytes(StandardCharsets.UTF_8);
        byte[] first = sealer.seal(plaintext, CONTEXT);
        byte[] second = sealer.seal(plaintext, CONTEXT);
        assertThat(first[0]).isEqualTo(Sealer.VERSION);
        assertThat(Arrays.copyOfRange(first, 1, 13)).isNotEqualTo(Arrays.copyOfRange(second, 1, 13));
        assertThat(first).isNotEqualTo(second);
    }

    /** Flip one bit in the version byte, the nonce, the ciphertext and the tag in turn. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 12, 13, 20, 35})
    void anyFlippedBitIsDetected(int position) {
        byte[] sealed = sealer.seal("a value of twenty-two!".getBytes(StandardCharsets.UTF_8), CONTEXT);
        assertThat(position).isLessThan(sealed.length);
        sealed[position] ^= 0x01;
        assertThatThrownBy(() -> sealer.open(sealed, CONTEXT)).isInstanceOf(SealException.class);
    }

    @Test
    void aValueMovedToAnotherRowDoesNotOpen() {
        byte[] sealed = sealer.seal("secret".getBytes(StandardCharsets.UTF_8), CONTEXT);
        byte[] otherRow = "key:kv1/disk-key/fedcba9876543210".getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> sealer.open(sealed, otherRow)).isInstanceOf(SealException.class)
                .hasMessageContaining("context");
    }

    @Test
    void truncatedValuesAreRefused() {
        byte[] sealed = sealer.seal("secret".getBytes(StandardCharsets.UTF_8), CONTEXT);
        for (int length : new int[] {0, 1, 12, 28, sealed.length - 1}) {
            byte[] truncated = Arrays.copyOf(sealed, length);
            assertThatThrownBy(() -> sealer.open(truncated, CONTEXT)).as("length %d", length)
                    .isInstanceOf(SealException.class);
        }
    }

    @Test
    void anotherKeyCannotOpen() {
        byte[] sealed = sealer.seal("secret".getBytes(StandardCharsets.UTF_8), CONTEXT);
        assertThatThrownBy(() -> new Sealer(Sealer.newKey()).open(sealed, CONTEXT))
                .isInstanceOf(SealException.class);
    }

    @Test
    void unknownFormatVersionIsNamed() {
        byte[] sealed = sealer.seal("secret".getBytes(StandardCharsets.UTF_8), CONTEXT);
        sealed[0] = 2;
        assertThatThrownBy(() -> sealer.open(sealed, CONTEXT)).isInstanceOf(SealException.class)
                .hasMessageContaining("version 2");
    }

    @Test
    void refusesKeysThatAreNotAes256() {
        assertThatThrownBy(() -> new Sealer(new SecretKeySpec(new byte[16], "AES")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
