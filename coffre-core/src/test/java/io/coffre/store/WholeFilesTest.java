package io.coffre.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WholeFilesTest {
    /** Around the alignment, the direct threshold and a whole block object, whose length is not aligned. */
    private static final int[] SIZES = {0, 1, 511, 4095, 4096, 4097, WholeFiles.DIRECT_MIN_BYTES - 1,
        WholeFiles.DIRECT_MIN_BYTES, WholeFiles.DIRECT_MIN_BYTES + 1, (4 << 20) + 53 + 64 * 28, (9 << 20) + 3};

    @TempDir
    Path dir;

    @Test
    void directIoKeepsEveryLengthExactly() throws Exception {
        WholeFiles files = WholeFiles.in(dir);
        assumeTrue(files.bypassesPageCache(), "the temporary directory's file system refuses O_DIRECT");
        everySizeReadsBack(files);
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.map(p -> p.getFileName().toString())).noneMatch(name -> name.contains("probe"));
        }
    }

    @Test
    void thePageCacheKeepsEveryLengthExactly() throws Exception {
        everySizeReadsBack(WholeFiles.buffered());
    }

    @Test
    void concurrentFilesDoNotShareBuffers() throws Exception {
        WholeFiles files = WholeFiles.in(dir);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> tasks = new ArrayList<>();
            for (int i = 0; i < 48; i++) {
                int n = i;
                tasks.add(pool.submit(() -> {
                    byte[] data = random((4 << 20) + n * 4099, n);
                    Path file = dir.resolve("c" + n);
                    files.create(file, data);
                    for (int read = 0; read < 3; read++) {
                        assertThat(Arrays.equals(files.read(file), data)).as("bytes of file %d", n).isTrue();
                    }
                    return null;
                }));
            }
            for (Future<?> task : tasks) {
                task.get();
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void anExistingFileIsNeverOverwritten() throws Exception {
        WholeFiles files = WholeFiles.in(dir);
        byte[] original = random(WholeFiles.DIRECT_MIN_BYTES * 2, 1);
        Path file = created(files, "taken", original);
        assertThatThrownBy(() -> files.create(file, random(WholeFiles.DIRECT_MIN_BYTES * 2, 2)))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Arrays.equals(files.read(file), original)).as("the first file's bytes").isTrue();
    }

    @Test
    void aFileCutShortReadsAsItsNewLength() throws Exception {
        WholeFiles files = WholeFiles.in(dir);
        byte[] data = random(WholeFiles.DIRECT_MIN_BYTES * 3, 3);
        Path file = created(files, "cut", data);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(WholeFiles.DIRECT_MIN_BYTES + 7);
        }
        assertThat(Arrays.equals(files.read(file), Arrays.copyOf(data, WholeFiles.DIRECT_MIN_BYTES + 7))).isTrue();
    }

    private Path created(WholeFiles files, String name, byte[] data) throws IOException {
        Path file = dir.resolve(name);
        files.create(file, data);
        return file;
    }

    /** Written and read back by the class under test, and read back by the JDK alone, so one bug cannot hide another. */
    private void everySizeReadsBack(WholeFiles files) throws IOException {
        for (int size : SIZES) {
            byte[] data = random(size, size);
            Path file = dir.resolve("f" + size);
            files.create(file, data);
            assertThat(Files.size(file)).as("size of a %d-byte file", size).isEqualTo(size);
            assertThat(Arrays.equals(Files.readAllBytes(file), data)).as("%d bytes as the JDK reads them", size)
                    .isTrue();
            assertThat(Arrays.equals(files.read(file), data)).as("%d bytes read back", size).isTrue();
        }
    }

    private static byte[] random(int size, long seed) {
        byte[] data = new byte[size];
        new SplittableRandom(seed).nextBytes(data);
        return data;
    }
}
