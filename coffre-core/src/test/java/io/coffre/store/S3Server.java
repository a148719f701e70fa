package io.coffre.store;

import java.net.ServerSocket;
import java.net.URI;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A real S3 server for tests: s3proxy on a loopback port with AWS signature authentication, keeping the objects in
 * memory (its {@code transient} backend). Its file backends are not what S3 promises: under concurrent PUTs a GET
 * returned part of an object, a listing missed keys that never changed, and a DELETE of a key that is also a
 * directory answered 500 (the blob contract caught each). One per JVM; each caller gets a bucket of its own.
 */
public final class S3Server {
    private static final String ACCESS_KEY = "coffre-test";
    private static final String SECRET_KEY = "coffre-test-secret";
    private static S3Server running;

    private final URI endpoint;
    private final BlobStoreContext context;
    private int buckets;

    private S3Server(URI endpoint, BlobStoreContext context) {
        this.endpoint = endpoint;
        this.context = context;
    }

    /** Where a new, empty bucket is (objects under {@code prefix}). */
    public static synchronized BlobStores.S3Location newBucket(String prefix) {
        if (running == null) {
            running = start();
        }
        String bucket = "coffre-test-" + ++running.buckets;
        running.context.getBlobStore().createContainerInLocation(null, bucket);
        return new BlobStores.S3Location(running.endpoint, "us-east-1", bucket, prefix, ACCESS_KEY, SECRET_KEY);
    }

    private static S3Server start() {
        try {
            BlobStoreContext context = ContextBuilder.newBuilder("transient").credentials("identity", "credential")
                    .build(BlobStoreContext.class);
            int port;
            try (ServerSocket socket = new ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            URI endpoint = URI.create("http://127.0.0.1:" + port);
            S3Proxy proxy = S3Proxy.builder().blobStore(context.getBlobStore()).endpoint(endpoint)
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
            proxy.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (!"STARTED".equals(proxy.getState()) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            if (!"STARTED".equals(proxy.getState())) {
                throw new IllegalStateException("s3proxy did not start: " + proxy.getState());
            }
            return new S3Server(endpoint, context);
        } catch (Exception e) {
            throw new IllegalStateException("cannot start s3proxy for the tests: " + e.getMessage(), e);
        }
    }
}
