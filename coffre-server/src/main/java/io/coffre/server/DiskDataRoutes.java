package io.coffre.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.compute.Disks;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The disk data endpoint that {@code beginGetAccess} URLs point at, shaped like a page blob as azcopy uses it:
 * {@code HEAD} (size), ranged {@code GET} (206) and {@code PUT} of pages ({@code x-ms-range} or {@code Range}
 * {@code bytes=S-E}, 512-byte aligned, at most 4 MiB; {@code x-ms-page-write: update|clear}) and Get Page Ranges
 * ({@code GET ?comp=pagelist}, which azcopy asks for to skip empty ranges). It authenticates by
 * the access token in {@code sig} alone, never by a bearer token. Errors are Azure Storage XML with the code also in
 * {@code x-ms-error-code}: 403 {@code AuthenticationFailed} (unknown, expired or revoked token),
 * 403 {@code AuthorizationPermissionMismatch} (a write with read access), 400 {@code InvalidPageRange} (unaligned or
 * malformed range), 416 {@code InvalidRange} (past the end), 413 {@code RequestBodyTooLarge},
 * 400 {@code InvalidHeaderValue} (body length differs from the range), 400 {@code InvalidQueryParameterValue} (a
 * {@code comp} operation the endpoint does not serve).
 */
final class DiskDataRoutes implements RouteModule {
    private static final String PATH = "/_data/disks/{dataId}";
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d{1,19})-(\\d{0,19})");

    private final Disks disks;

    DiskDataRoutes(Disks disks) {
        this.disks = disks;
    }

    /**
     * The {@code beginGetAccess} result of a grant: {@code accessSAS}, and {@code securityDataAccessSAS} (the VM guest
     * state) when it was asked for; URLs on the host (and port) the client addressed.
     */
    static ObjectNode accessUri(Context ctx, Disks.Grant grant) {
        ObjectNode result = Json.object().put("accessSAS", url(ctx, grant.dataId(), grant.token()));
        if (grant.securityDataId() != null) {
            result.put("securityDataAccessSAS", url(ctx, grant.securityDataId(), grant.token()));
        }
        return result;
    }

    private static String url(Context ctx, String dataId, String token) {
        return ArmRequest.baseUrl(ctx) + "/_data/disks/" + dataId + "?sig=" + token;
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.head(PATH, storage(ctx -> {
            operation(ctx, null);
            long size = disks.dataSize(ctx.pathParam("dataId"), ctx.queryParam("sig"));
            blobHeaders(ctx, size);
            ctx.header("Content-Length", Long.toString(size));
        }));
        routes.get(PATH, storage(ctx -> {
            String id = ctx.pathParam("dataId");
            String sig = ctx.queryParam("sig");
            if (operation(ctx, "pagelist") != null) {
                pageList(ctx, disks.pageList(id, sig));
                return;
            }
            long size = disks.dataSize(id, sig);
            Disks.ByteRange range = requestedRange(ctx, size);
            long start = 0;
            long end = size - 1;
            if (range != null) {
                start = range.start();
                end = range.end();
                ctx.status(206);
                ctx.header("Content-Range", "bytes " + start + "-" + end + "/" + size);
            }
            blobHeaders(ctx, size);
            ctx.contentType("application/octet-stream");
            ctx.header("Content-Length", Long.toString(end - start + 1));
            try {
                disks.readData(id, sig, start, end - start + 1, ctx.res().getOutputStream());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }));
        routes.put(PATH, storage(ctx -> {
            operation(ctx, "page");
            String range = range(ctx);
            if (range == null) {
                throw ArmException.badRequest("InvalidPageRange", "A page write needs x-ms-range (or Range) "
                        + "bytes=S-E, 512-byte aligned.");
            }
            Matcher m = parse(range);
            if (m.group(2).isEmpty()) {
                throw ArmException.badRequest("InvalidPageRange", "The range '" + range + "' has no end; page writes "
                        + "name both ends: bytes=S-E.");
            }
            long start = Long.parseLong(m.group(1));
            long length = Long.parseLong(m.group(2)) - start + 1;
            String mode = ctx.header("x-ms-page-write");
            boolean clear = "clear".equalsIgnoreCase(mode);
            if (mode != null && !clear && !"update".equalsIgnoreCase(mode)) {
                throw ArmException.badRequest("InvalidHeaderValue", "x-ms-page-write must be 'update' or 'clear'.");
            }
            byte[] data = clear ? null : body(ctx, length);
            disks.writeData(ctx.pathParam("dataId"), ctx.queryParam("sig"), start, length, data);
            ctx.header("x-ms-request-server-encrypted", "true");
            ctx.header("x-ms-blob-sequence-number", "0");
            ctx.status(201);
        }));
    }

    /** Data requests reach only the management host and speak Storage's error dialect. */
    private static Handler storage(Handler handler) {
        return ctx -> {
            try {
                if (CoffreServer.host(ctx).kind() != RequestHost.Kind.MANAGEMENT) {
                    throw ArmException.notFound("ResourceNotFound", "Disk data is served on the management host.");
                }
                handler.handle(ctx);
            } catch (ArmException e) {
                if (ctx.res().isCommitted()) {
                    // part of a body went out: the client sees it cut short of its Content-Length, never complete
                    throw e;
                }
                // set for a body that will not come (a ranged read that failed before its first byte)
                ctx.res().setHeader("Content-Length", null);
                ctx.res().setHeader("Content-Range", null);
                ctx.status(e.status()).header("x-ms-error-code", e.code()).contentType("application/xml")
                        .result("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + e.code() + "</Code>"
                                + "<Message>" + xml(e.getMessage()) + "</Message></Error>");
            }
        };
    }

    /**
     * The blob operation a request names in {@code comp}: absent, or the one this method serves ({@code page} for
     * Put Page, which may also be left out; {@code pagelist} for Get Page Ranges). Any other is refused rather than
     * answered as if it were absent: a client asking for a page list must not get the disk's bytes instead.
     */
    private static String operation(Context ctx, String served) {
        String comp = ctx.queryParam("comp");
        if (comp != null && !comp.equals(served)) {
            throw ArmException.badRequest("InvalidQueryParameterValue", "The disk data endpoint does not serve "
                    + "comp=" + comp + " on " + ctx.method() + (served == null ? "." : "; it serves comp=" + served
                    + "."));
        }
        return comp;
    }

    /** The {@code bytes=S-E} (or {@code S-}) a request names, cut at the disk's end; null when it names none. */
    private static Disks.ByteRange requestedRange(Context ctx, long size) {
        String range = range(ctx);
        if (range == null) {
            return null;
        }
        Matcher m = parse(range);
        long start = Long.parseLong(m.group(1));
        long end = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
        if (start >= size || end < start) {
            throw new ArmException(416, "InvalidRange", "The range '" + range + "' is not within the disk's "
                    + size + " bytes.");
        }
        return new Disks.ByteRange(start, end);
    }

    /** Get Page Ranges: the ranges holding data, within the requested range if one is named (cut to it). */
    private static void pageList(Context ctx, Disks.PageList pages) {
        long size = pages.sizeBytes();
        Disks.ByteRange within = requestedRange(ctx, size);
        long from = within == null ? 0 : within.start();
        long to = within == null ? size - 1 : within.end();
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>");
        for (Disks.ByteRange r : pages.ranges()) {
            long start = Math.max(r.start(), from);
            long end = Math.min(r.end(), to);
            if (start <= end) {
                xml.append("<PageRange><Start>").append(start).append("</Start><End>").append(end)
                        .append("</End></PageRange>");
            }
        }
        blobHeaders(ctx, size);
        ctx.contentType("application/xml").result(xml.append("</PageList>").toString());
    }

    private static String range(Context ctx) {
        String range = ctx.header("x-ms-range");
        return range != null ? range : ctx.header("Range");
    }

    private static Matcher parse(String range) {
        Matcher m = RANGE.matcher(range.trim());
        if (!m.matches()) {
            throw ArmException.badRequest("InvalidPageRange", "The range '" + range + "' is not of the form "
                    + "bytes=S-E.");
        }
        return m;
    }

    /**
     * Reads the body straight into an array of the range's length (never more than a page write may carry) and
     * then at most one byte more, so an oversized body is refused, not buffered; {@link Disks#writeData} names what
     * is wrong with a body of another length.
     */
    private static byte[] body(Context ctx, long length) {
        int expected = (int) Math.min(Math.max(length, 0), Disks.MAX_PAGE_WRITE_BYTES);
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] data = new byte[expected];
            int n = in.readNBytes(data, 0, expected);
            if (n < expected) {
                return Arrays.copyOf(data, n);
            }
            return in.read() < 0 ? data : Arrays.copyOf(data, expected + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void blobHeaders(Context ctx, long size) {
        ctx.header("x-ms-blob-type", "PageBlob");
        ctx.header("x-ms-blob-content-length", Long.toString(size));
        ctx.header("Accept-Ranges", "bytes");
    }

    private static String xml(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
