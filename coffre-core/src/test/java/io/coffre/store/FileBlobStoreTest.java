package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobStoreTest extends BlobStoreContract {
    @TempDir
    Path dir;

    @Override
    protected BlobStore newStore() {
        return BlobStores.fileSystem(dir.resolve("blobs"));
    }

    @Test
    void blobsSurviveReopening() {
        store.put("v/1", new byte[] {1, 2});
        try (BlobStore reopened = newStore()) {
            assertThat(reopened.get("v/1")).hasValueSatisfying(b -> assertThat(b).containsExactly(1, 2));
        }
    }

    @Test
    void leftoverTemporaryFilesAndStrangersAreNotListed() throws IOException {
        store.put("t/real", new byte[] {1});
        Path blobs = dir.resolve("blobs");
        // what a crash mid-put leaves behind, and a file no key can name
        Files.write(blobs.resolve("t/real~0d3c5e-crashed.tmp"), new byte[] {9});
        Files.write(blobs.resolve("t/with space"), new byte[] {9});
        assertThat(keys("")).containsExactly("t/real");
    }

    @Test
    void noTemporaryFileRemainsAfterPuts() throws IOException {
        for (int i = 0; i < 20; i++) {
            store.put("n/" + (i % 3), random(1000, i));
        }
        try (Stream<Path> files = Files.walk(dir.resolve("blobs"))) {
            assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("0", "1", "2");
        }
    }

    @Test
    void deletingTheLastBlobOfADirectoryRemovesTheDirectory() {
        store.put("x/y/z", new byte[1]);
        store.put("x/w", new byte[1]);
        store.delete("x/y/z");
        assertThat(dir.resolve("blobs/x/y")).doesNotExist();
        assertThat(dir.resolve("blobs/x")).isDirectory();
        assertThat(dir.resolve("blobs")).isDirectory();
    }

    @Test
    void aKeyThatIsAlsoADirectoryOfOtherKeysIsRefusedWithoutDamage() {
        store.put("both/child", new byte[] {1});
        assertThatThrownBy(() -> store.put("both", new byte[] {2}))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("both")
                .hasStackTraceContaining("cannot hold both");
        assertThat(keys("")).isEqualTo(List.of("both/child"));
    }

    @Test
    void aKeyUnderAnotherBlobIsRefusedWithoutDamage() {
        store.put("file", new byte[] {1});
        // the directory it needs is a blob's file: retrying the directory (a pruning race) cannot help, and stops
        assertThatThrownBy(() -> store.put("file/child", new byte[] {2}))
                .isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("file/child");
        assertThat(store.get("file")).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
        assertThat(keys("")).isEqualTo(List.of("file"));
    }
}
