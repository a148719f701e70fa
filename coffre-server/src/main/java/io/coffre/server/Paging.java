package io.coffre.server;

import io.coffre.arm.ArmException;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * List responses for every surface: {@code {"value":[...],"nextLink":"<absolute url>"}}, the next link repeating
 * the request (host as the client used it, path, query) with the skip token replaced. ARM and Key Vault both name
 * the token {@code $skiptoken}; Key Vault sizes pages with {@code maxresults} (1..25), ARM with {@code $top}.
 */
public final class Paging {
    /** The token parameter ARM and Key Vault both use. */
    public static final String SKIP_TOKEN = "$skiptoken";

    private Paging() {
    }

    /** One page of a list, and the token of the next page (null on the last). */
    public record Slice<T>(List<T> items, String nextToken) {
    }

    /** Renders a page as the response body. */
    public static void render(Context ctx, List<?> items, String nextSkipTokenOrNull, String tokenParamName) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("value", items);
        if (nextSkipTokenOrNull != null) {
            body.put("nextLink", nextLink(ctx, nextSkipTokenOrNull, tokenParamName));
        }
        ctx.json(body);
    }

    /**
     * Renders the page of {@code all} the request's {@code $skiptoken} points at, sized by {@code sizeParam}
     * ({@code $top} or {@code maxresults}): the usual one-liner of a list route.
     */
    public static void renderPage(Context ctx, List<?> all, String sizeParam, int defaultSize, int maxSize) {
        Slice<?> page = slice(all, ctx.queryParam(SKIP_TOKEN), pageSize(ctx, sizeParam, defaultSize, maxSize));
        render(ctx, page.items(), page.nextToken(), SKIP_TOKEN);
    }

    /** This request's URL with {@code tokenParamName} set to {@code token}. */
    public static String nextLink(Context ctx, String token, String tokenParamName) {
        StringBuilder url = new StringBuilder(ArmRequest.baseUrl(ctx)).append(ctx.path());
        char separator = '?';
        for (Map.Entry<String, List<String>> param : ctx.queryParamMap().entrySet()) {
            if (param.getKey().equalsIgnoreCase(tokenParamName)) {
                continue;
            }
            for (String value : param.getValue()) {
                url.append(separator).append(encode(param.getKey())).append('=').append(encode(value));
                separator = '&';
            }
        }
        return url.append(separator).append(encode(tokenParamName)).append('=').append(encode(token)).toString();
    }

    /**
     * Cuts a page out of a complete, stably ordered list. The token is opaque to clients (it encodes the offset).
     *
     * @throws ArmException 400 {@code BadParameter} for a token this server did not issue
     */
    public static <T> Slice<T> slice(List<T> all, String skipTokenOrNull, int pageSize) {
        int offset = skipTokenOrNull == null ? 0 : offsetOf(skipTokenOrNull);
        int end = Math.min(all.size(), offset + pageSize);
        List<T> items = offset >= all.size() ? List.of() : all.subList(offset, end);
        return new Slice<>(items, end < all.size() ? tokenFor(end) : null);
    }

    /**
     * The page size a request asks for in {@code param}, or {@code defaultSize} when absent.
     *
     * @throws ArmException 400 {@code BadParameter} when it is not an integer from 1 to {@code max}
     */
    public static int pageSize(Context ctx, String param, int defaultSize, int max) {
        String raw = ctx.queryParam(param);
        if (raw == null || raw.isBlank()) {
            return defaultSize;
        }
        try {
            int size = Integer.parseInt(raw.trim());
            if (size >= 1 && size <= max) {
                return size;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw ArmException.badRequest("BadParameter", "The '" + param + "' parameter must be an integer from 1 to "
                + max + "; got '" + raw + "'.");
    }

    private static String tokenFor(int offset) {
        return java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(("offset:" + offset).getBytes(StandardCharsets.UTF_8));
    }

    private static int offsetOf(String token) {
        try {
            String decoded = new String(java.util.Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
            if (decoded.startsWith("offset:")) {
                int offset = Integer.parseInt(decoded.substring("offset:".length()));
                if (offset >= 0) {
                    return offset;
                }
            }
        } catch (IllegalArgumentException e) {
            // reported below (NumberFormatException is an IllegalArgumentException)
        }
        throw ArmException.badRequest("BadParameter", "The skip token '" + token
                + "' is not valid; follow the nextLink exactly as it was returned.");
    }

    /** Query encoding that keeps {@code $} readable and spaces as {@code %20}. */
    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%24", "$");
    }
}
