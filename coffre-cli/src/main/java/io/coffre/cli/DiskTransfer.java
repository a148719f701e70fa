package io.coffre.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Moves an image to or from a disk access URL as azcopy does: 4 MiB ranged requests (page writes on upload, ranged
 * reads on download), several in flight, progress on standard error. The disk's page list says where it holds data:
 * an upload skips all-zero chunks where the disk holds none (a fresh disk reads as zeros), a download skips what the
 * disk never wrote and leaves it a hole in the file. An endpoint without page lists gets every chunk.
 */
final class DiskTransfer {
    static final int CHUNK_BYTES = 4 * 1024 * 1024;
    static final int IN_FLIGHT = 8;
    private static final int SECTOR_BYTES = 512;
    private static final Pattern PAGE_RANGE = Pattern.compile(
            "<PageRange>\\s*<Start>(\\d+)</Start>\\s*<End>(\\d+)</End>\\s*</PageRange>");

    private final CoffreHttp http;
    private final Progress progress;

    DiskTransfer(CoffreHttp http, Progress progress) {
        this.http = http;
        this.progress = progress;
    }

    /**
     * Writes {@code file} over the whole disk; its size must be the disk's, as azcopy requires.
     *
     * @return the bytes skipped: all-zero chunks where the disk held no data
     */
    long upload(Path file, String accessUrl) {
        long diskSize = diskSize(accessUrl);
        HeldRanges held = dataRanges(accessUrl);
        long skipped = 0;
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size != diskSize) {
                throw new CliError("The image " + file + " has " + size + " bytes but the disk takes exactly "
                        + diskSize + "; create the disk with --upload-size-bytes " + size + ".");
            }
            if (size % SECTOR_BYTES != 0) {
                throw new CliError("The image " + file + " is not a whole number of 512-byte sectors.");
            }
            progress.start(size);
            Deque<CompletableFuture<HttpResponse<byte[]>>> inFlight = new ArrayDeque<>();
            for (long offset = 0; offset < size; offset += CHUNK_BYTES) {
                int length = (int) Math.min(CHUNK_BYTES, size - offset);
                ByteBuffer chunk = ByteBuffer.allocate(length);
                while (chunk.hasRemaining()) {
                    if (in.read(chunk, offset + chunk.position()) < 0) {
                        throw new CliError(file + " shrank while it was uploaded.");
                    }
                }
                if (isZero(chunk.array()) && held != null && !held.overlaps(offset, length)) {
                    progress.advance(length);
                    skipped += length;
                    continue;
                }
                HttpRequest request = HttpRequest.newBuilder(URI.create(accessUrl))
                        .header("x-ms-range", "bytes=" + offset + "-" + (offset + length - 1))
                        .header("x-ms-page-write", "update").header("x-ms-blob-type", "PageBlob")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(chunk.array())).build();
                inFlight.add(http.sendData(request).thenApply(r -> counted(r, 201, length)));
                if (inFlight.size() >= IN_FLIGHT) {
                    await(inFlight.removeFirst());
                }
            }
            while (!inFlight.isEmpty()) {
                await(inFlight.removeFirst());
            }
            progress.finish();
            return skipped;
        } catch (IOException e) {
            throw new CliError("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the whole disk into {@code file} (created or replaced; what the disk never wrote is a hole).
     *
     * @return the bytes skipped: ranges the disk holds no data in
     */
    long download(String accessUrl, Path file) {
        long size = diskSize(accessUrl);
        HeldRanges held = dataRanges(accessUrl);
        long skipped = 0;
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            progress.start(size);
            Deque<CompletableFuture<Void>> inFlight = new ArrayDeque<>();
            for (long offset = 0; offset < size; offset += CHUNK_BYTES) {
                long start = offset;
                int length = (int) Math.min(CHUNK_BYTES, size - offset);
                if (held != null && !held.overlaps(start, length)) {
                    progress.advance(length);
                    skipped += length;
                    continue;
                }
                HttpRequest request = HttpRequest.newBuilder(URI.create(accessUrl))
                        .header("Range", "bytes=" + start + "-" + (start + length - 1)).GET().build();
                inFlight.add(http.sendData(request).thenApply(r -> counted(r, 206, length))
                        .thenAccept(r -> writeAt(out, r.body(), start, length)));
                if (inFlight.size() >= IN_FLIGHT) {
                    await(inFlight.removeFirst());
                }
            }
            while (!inFlight.isEmpty()) {
                await(inFlight.removeFirst());
            }
            if (size > 0 && out.size() < size) {
                out.write(ByteBuffer.allocate(1), size - 1); // a trailing hole still counts in the file's length
            }
            out.force(true);
            progress.finish();
            return skipped;
        } catch (IOException e) {
            throw new CliError("Cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Where the disk holds data (Get Page Ranges), or null when the endpoint cannot tell. */
    private HeldRanges dataRanges(String accessUrl) {
        HttpResponse<byte[]> response = await(http.sendData(HttpRequest.newBuilder(URI.create(accessUrl
                + (accessUrl.contains("?") ? "&" : "?") + "comp=pagelist")).GET().build()));
        if (response.statusCode() != 200) {
            return null;
        }
        List<long[]> ranges = new ArrayList<>();
        Matcher m = PAGE_RANGE.matcher(new String(response.body(), StandardCharsets.UTF_8));
        while (m.find()) {
            ranges.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        }
        return new HeldRanges(ranges);
    }

    /** A page list's [start, end] ranges, in order, asked about chunks in increasing offsets: one pass over both. */
    private static final class HeldRanges {
        private final List<long[]> ranges;
        private int next;

        HeldRanges(List<long[]> ranges) {
            this.ranges = ranges;
        }

        boolean overlaps(long offset, int length) {
            while (next < ranges.size() && ranges.get(next)[1] < offset) {
                next++; // ends before this chunk, so before every later one
            }
            return next < ranges.size() && ranges.get(next)[0] <= offset + length - 1;
        }
    }

    private static boolean isZero(byte[] chunk) {
        for (byte b : chunk) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** One range of a disk (at most {@value #CHUNK_BYTES} bytes), without progress. */
    byte[] readRange(String accessUrl, long offset, int length) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(accessUrl))
                .header("Range", "bytes=" + offset + "-" + (offset + length - 1)).GET().build();
        HttpResponse<byte[]> response = await(http.sendData(request));
        check(response, 206);
        return response.body();
    }

    private long diskSize(String accessUrl) {
        HttpResponse<byte[]> head = await(http.sendData(HttpRequest.newBuilder(URI.create(accessUrl))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build()));
        check(head, 200);
        return head.headers().firstValueAsLong("Content-Length")
                .orElseThrow(() -> new CliError("The disk endpoint did not report the disk's size."));
    }

    private HttpResponse<byte[]> counted(HttpResponse<byte[]> response, int expected, int length) {
        check(response, expected);
        progress.advance(length);
        return response;
    }

    private static void check(HttpResponse<byte[]> response, int expected) {
        if (response.statusCode() != expected) {
            String code = response.headers().firstValue("x-ms-error-code").orElse("Status" + response.statusCode());
            String body = new String(response.body(), StandardCharsets.UTF_8);
            String message = body.replaceAll("(?s).*<Message>(.*)</Message>.*", "$1");
            throw new ServerError(response.statusCode(), code, message.isBlank() ? body : message);
        }
    }

    private static void writeAt(FileChannel out, byte[] data, long offset, int length) {
        if (data.length != length) {
            throw new CliError("The disk endpoint returned " + data.length + " bytes at " + offset + " where "
                    + length + " were asked for.");
        }
        try {
            ByteBuffer buffer = ByteBuffer.wrap(data);
            while (buffer.hasRemaining()) {
                out.write(buffer, offset + buffer.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliError("Interrupted during the transfer.");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new CliError("The transfer failed: " + cause, cause);
        }
    }
}
