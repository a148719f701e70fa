package io.coffre.store;

import java.net.URI;
import java.nio.file.Path;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** Opens the blob store named by the configuration; the only place that knows the implementations. */
public final class BlobStores {
    private BlobStores() {
    }

    /** The embedded default: files under {@code dir}. */
    public static BlobStore fileSystem(Path dir) {
        return new FileBlobStore(dir);
    }

    /**
     * Where an S3-compatible object store keeps the blobs (scale-out): a bucket at an endpoint, addressed path-style
     * (as MinIO, Ceph and s3proxy expect), and a key prefix ({@code ""} or ending in {@code /}).
     */
    public record S3Location(URI endpoint, String region, String bucket, String prefix, String accessKey,
                             String secretKey) {
        @Override
        public String toString() {
            return "S3Location[" + endpoint + " " + bucket + "/" + prefix + " as " + accessKey + "]"; // no secret
        }
    }

    /** Objects in an S3 bucket, through the AWS SDK over the JDK's HTTP client. */
    public static BlobStore s3(S3Location location) {
        S3Client client = S3Client.builder()
                .endpointOverride(location.endpoint())
                .region(Region.of(location.region()))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(location.accessKey(),
                        location.secretKey())))
                .forcePathStyle(true)
                .httpClient(UrlConnectionHttpClient.create())
                // S3-compatible servers do not all know the newer checksum headers; ask for them only where required
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
        return new S3BlobStore(client, location.bucket(), location.prefix());
    }
}
