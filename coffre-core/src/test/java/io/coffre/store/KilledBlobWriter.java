package io.coffre.store;

import java.nio.file.Path;

/**
 * The child process of {@link FileBlobStoreKillTest}: puts self-checking blobs of 1–4 MiB into a
 * {@link FileBlobStore} forever (new keys and overwrites), printing {@code key generation} after each put returns,
 * until it is killed.
 */
public final class KilledBlobWriter {
    static final int KEYS = 12;

    private KilledBlobWriter() {
    }

    public static void main(String[] args) {
        BlobStore store = BlobStores.fileSystem(Path.of(args[0]));
        long generation = Long.parseLong(args[1]);
        for (; ; generation++) {
            String key = key(generation);
            int bodyLength = (1 << 20) + (int) (generation * 7919 % (3 << 20));
            store.put(key, SelfCheckingBlob.content(key, generation, bodyLength));
            System.out.println(key + " " + generation);
            System.out.flush();
        }
    }

    static String key(long generation) {
        return "kill/" + (generation % 3) + "/blob" + (generation % KEYS);
    }
}
