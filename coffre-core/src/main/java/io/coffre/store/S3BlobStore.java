package io.coffre.store;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Optional;
import java.util.function.Consumer;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Blobs as objects of one S3 bucket, under an optional key prefix (several stores can share a bucket). S3 gives what
 * the contract asks for: a PUT is atomic and durable when acknowledged, a listing is ordered by key and pages on a
 * continuation token. A ranged read fetches its range in one request, so it keeps the bytes of the object it opened
 * even if the key is overwritten while the caller reads (ranges are at most a block object).
 */
final class S3BlobStore implements BlobStore {
    private final S3Client s3;
    private final String bucket;
    private final String prefix;

    /** @param prefix prepended to every key ({@code ""}, or ending in {@code /}) */
    S3BlobStore(S3Client s3, String bucket, String prefix) {
        if (!prefix.isEmpty()) {
            BlobStore.checkPrefix(prefix);
            if (!prefix.endsWith("/")) {
                throw new IllegalArgumentException("an S3 key prefix ends in '/': " + prefix);
            }
        }
        this.s3 = s3;
        this.bucket = bucket;
        this.prefix = prefix;
    }

    @Override
    public void put(String key, byte[] data) {
        BlobStore.checkKey(key);
        // RequestBody.fromBytes copies: the caller may reuse the array once put returns
        s3.putObject(b -> b.bucket(bucket).key(prefix + key), RequestBody.fromBytes(data));
    }

    @Override
    public Optional<byte[]> get(String key) {
        BlobStore.checkKey(key);
        try {
            ResponseBytes<GetObjectResponse> object = s3.getObjectAsBytes(b -> b.bucket(bucket).key(prefix + key));
            return Optional.of(object.asByteArray());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        }
    }

    @Override
    public InputStream open(String key, long offset, long length) {
        BlobStore.checkKey(key);
        BlobStore.checkRange(key, offset, length);
        if (length == 0) { // no HTTP range names zero bytes: the size alone answers
            long size = size(key).orElseThrow(() -> new BlobNotFoundException("no blob " + key));
            BlobStore.checkWithin(key, size, offset, length);
            return InputStream.nullInputStream();
        }
        byte[] range;
        try {
            range = s3.getObjectAsBytes(b -> b.bucket(bucket).key(prefix + key)
                    .range("bytes=" + offset + "-" + (offset + length - 1))).asByteArray();
        } catch (NoSuchKeyException e) {
            throw new BlobNotFoundException("no blob " + key);
        } catch (S3Exception e) {
            if (e.statusCode() == 416) { // the range starts at or past the end
                throw outside(key, offset, length);
            }
            throw e;
        }
        if (range.length != length) { // one that runs past the end comes back cut short: one request checks and reads
            throw outside(key, offset, length);
        }
        return new ByteArrayInputStream(range);
    }

    private static BlobNotFoundException outside(String key, long offset, long length) {
        return new BlobNotFoundException("blob " + key + " ends before the end of the range " + offset + "+" + length);
    }

    @Override
    public boolean exists(String key) {
        BlobStore.checkKey(key);
        return size(key).isPresent();
    }

    @Override
    public void delete(String key) {
        BlobStore.checkKey(key);
        s3.deleteObject(b -> b.bucket(bucket).key(prefix + key)); // S3 deletes of missing keys succeed
    }

    @Override
    public void list(String keyPrefix, Consumer<String> keys) {
        BlobStore.checkPrefix(keyPrefix);
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + keyPrefix)
                .build();
        for (S3Object object : s3.listObjectsV2Paginator(request).contents()) {
            keys.accept(object.key().substring(prefix.length()));
        }
    }

    @Override
    public void close() {
        s3.close();
    }

    private Optional<Long> size(String key) {
        try {
            HeadObjectResponse head = s3.headObject(b -> b.bucket(bucket).key(prefix + key));
            return Optional.of(head.contentLength());
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) { // a HEAD has no body to name NoSuchKey in
                return Optional.empty();
            }
            throw e;
        }
    }
}
