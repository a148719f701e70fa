package io.coffre.store;

/** The blob contract on an S3 bucket of a real S3 server (s3proxy), through the AWS SDK. */
class S3BlobStoreTest extends BlobStoreContract {
    @Override
    protected BlobStore newStore() {
        return BlobStores.s3(S3Server.newBucket(""));
    }
}
