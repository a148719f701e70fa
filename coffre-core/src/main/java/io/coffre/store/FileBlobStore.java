package io.coffre.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Blobs as files under a root directory. Writes go to a temporary file that is fsynced, renamed into place and
 * followed by an fsync of the directory (and of the parents of directories the write created), so a crash leaves
 * either the old object or the whole new one. Large blobs are written and read around the page cache where the file
 * system allows it ({@link WholeFiles}).
 *
 * <p>Temporary files carry {@value #TMP_MARK} in their name, a character {@link BlobStore#checkKey} refuses, so no
 * key can ever name one and {@link #list} can skip them without hiding a real key. A key cannot be both an object
 * and the directory of other objects ({@code a} and {@code a/b}); such a put fails.
 */
final class FileBlobStore implements BlobStore {
    private static final char TMP_MARK = '~';
    /** Another thread's delete may prune a directory we just created; that race is retried this often. */
    private static final int CREATE_ATTEMPTS = 10;

    private final Path root;
    private final WholeFiles files;

    FileBlobStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.files = WholeFiles.in(this.root);
    }

    @Override
    public void put(String key, byte[] data) {
        Path target = path(key);
        Path dir = target.getParent();
        Path tmp = dir.resolve(target.getFileName().toString() + TMP_MARK + UUID.randomUUID() + ".tmp");
        try {
            List<Path> createdDirs = writeTemp(dir, tmp, data);
            clearEmptyDirectoryAt(target, key);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            syncDirectory(dir);
            for (Path created : createdDirs) {
                syncDirectory(created.getParent());
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the original failure is the one to report
            }
            throw new UncheckedIOException("cannot store blob " + key, e);
        }
    }

    /** @return the directories this call created, whose entries in their parents must be made durable too */
    private List<Path> writeTemp(Path dir, Path tmp, byte[] data) throws IOException {
        for (int attempt = 1; ; attempt++) {
            List<Path> created = new ArrayList<>();
            for (Path d = dir; !Files.isDirectory(d); d = d.getParent()) {
                created.add(d);
            }
            try {
                if (!created.isEmpty()) { // a mkdir of an existing directory costs a syscall and an exception
                    Files.createDirectories(dir);
                }
                files.create(tmp, data);
                return created;
            } catch (NoSuchFileException | FileAlreadyExistsException e) {
                // a delete pruned the directory after we made it, or between another put making it and our check
                if (attempt == CREATE_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** An empty directory left where the key's file goes would make the rename fail; a full one is a real clash. */
    private static void clearEmptyDirectoryAt(Path target, String key) throws IOException {
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.delete(target);
        } catch (DirectoryNotEmptyException e) {
            throw new IOException("blob key " + key + " is also the directory of other blobs (" + key
                    + "/...); the file store cannot hold both", e);
        } catch (NoSuchFileException e) {
            // pruned concurrently: the way is clear
        }
    }

    @Override
    public Optional<byte[]> get(String key) {
        Path p = path(key);
        try {
            if (!isBlob(p)) {
                return Optional.empty();
            }
            return Optional.of(files.read(p));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + key, e);
        }
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        Path p = path(key);
        BlobStore.checkRange(key, offset, length);
        if (!isBlob(p)) {
            throw new BlobNotFoundException("no blob " + key);
        }
        try {
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
            try {
                BlobStore.checkWithin(key, ch.size(), offset, length);
            } catch (BlobNotFoundException e) {
                ch.close();
                throw e;
            }
            ch.position(offset);
            return new BoundedInputStream(Channels.newInputStream(ch), length);
        } catch (NoSuchFileException e) {
            throw new BlobNotFoundException("no blob " + key);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read blob " + key, e);
        }
    }

    @Override
    public boolean exists(String key) {
        return isBlob(path(key));
    }

    @Override
    public void delete(String key) {
        Path p = path(key);
        try {
            if (isBlob(p) && Files.deleteIfExists(p)) {
                pruneEmptyParents(p.getParent());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete blob " + key, e);
        }
    }

    /** Object stores have no directories; leaving empty ones behind would block a later put of that name. */
    private void pruneEmptyParents(Path dir) {
        for (Path d = dir; d != null && !d.equals(root); d = d.getParent()) {
            try {
                Files.delete(d);
            } catch (IOException e) {
                return; // not empty (the usual stop), gone already, or refused: an empty directory is untidy, not wrong
            }
        }
    }

    @Override
    public void list(String prefix, Consumer<String> keys) {
        BlobStore.checkPrefix(prefix);
        int slash = prefix.lastIndexOf('/');
        Path start = slash < 0 ? root : root.resolve(prefix.substring(0, slash));
        try {
            walk(start, prefix, keys);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list blobs under " + prefix, e);
        }
    }

    /**
     * Depth-first walk that tolerates entries vanishing under it (temporary files renamed away, directories
     * pruned by deletes), which {@code Files.walk} reports as errors.
     */
    private void walk(Path dir, String prefix, Consumer<String> keys) throws IOException {
        List<Path> subdirs = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue;
                }
                String key = root.relativize(entry).toString().replace('\\', '/');
                if (attrs.isDirectory()) {
                    if (key.startsWith(prefix) || prefix.startsWith(key + "/")) {
                        subdirs.add(entry);
                    }
                } else if (attrs.isRegularFile() && key.startsWith(prefix) && isValidKey(key)) {
                    keys.accept(key);
                }
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return; // nothing stored under this prefix
        }
        for (Path subdir : subdirs) {
            walk(subdir, prefix, keys);
        }
    }

    private static boolean isValidKey(String name) {
        if (name.indexOf(TMP_MARK) >= 0) {
            return false;
        }
        try {
            BlobStore.checkKey(name);
            return true;
        } catch (IllegalArgumentException e) {
            return false; // a stranger's file dropped into the directory is not a blob
        }
    }

    private Path path(String key) {
        BlobStore.checkKey(key);
        return root.resolve(key);
    }

    private static boolean isBlob(Path p) {
        return Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
    }

    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems refuse to open directories; the rename is still atomic there
        }
    }

    /** Stops after {@code remaining} bytes so a ranged read never runs into the next object's bytes. */
    private static final class BoundedInputStream extends InputStream {
        private final InputStream in;
        private long remaining;

        BoundedInputStream(InputStream in, long remaining) {
            this.in = in;
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
