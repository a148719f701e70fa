package io.coffre.server;

import io.coffre.arm.ArmException;
import io.javalin.http.Context;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * The one table of {@code api-version}s each route family accepts: what current SDKs send and what Debian's
 * azure-cli 2.45 sends (older versions). A family is a resource provider namespace. Route modules call
 * {@link #require} first; a provider whose versions are not in the table below adds them with {@link #register}
 * (in its route module's constructor), so the table stays the one place to look.
 */
public final class ApiVersions {
    public static final String RESOURCES = "Microsoft.Resources";
    public static final String KEY_VAULT = "Microsoft.KeyVault";
    public static final String AUTHORIZATION = "Microsoft.Authorization";
    public static final String FEATURES = "Microsoft.Features";
    public static final String COMPUTE = "Microsoft.Compute";

    private static final Map<String, Set<String>> TABLE = new ConcurrentHashMap<>();

    static {
        // Subscriptions, resource groups, resources, providers. az 2.45: 2019-11-01 (subscriptions),
        // 2021-04-01 (groups, providers), 2015-11-01 (resource listing in keyvault set-policy).
        register(RESOURCES, "2015-11-01", "2016-02-01", "2016-06-01", "2016-09-01", "2017-05-10", "2018-02-01",
                "2018-05-01", "2019-05-01", "2019-05-10", "2019-06-01", "2019-07-01", "2019-08-01", "2019-10-01",
                "2019-11-01", "2020-01-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01",
                "2022-01-01", "2022-09-01", "2022-12-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01",
                "2025-03-01", "2025-04-01");
        // az 2.45: 2022-07-01; @azure/arm-keyvault 5.0.0: 2026-02-01.
        register(KEY_VAULT, "2019-09-01", "2021-06-01-preview", "2021-10-01", "2021-11-01-preview",
                "2022-02-01-preview", "2022-07-01", "2023-02-01", "2023-07-01", "2023-08-01-preview",
                "2024-04-01-preview", "2024-11-01", "2024-12-01-preview", "2025-05-01", "2026-02-01");
        // az 2.45 role commands: 2022-04-01.
        register(AUTHORIZATION, "2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview",
                "2020-08-01-preview", "2020-10-01-preview", "2022-04-01", "2022-05-01-preview");
        register(FEATURES, "2015-12-01", "2021-07-01");
        // DiskRP / CRP: az 2.45 sends 2022-03-02 (DES) and 2022-07-02 (disks); @azure/arm-compute 25.1.1 sends
        // 2026-03-02 (disks, snapshots, disk encryption sets), 2026-04-01 (virtual machines, restore points,
        // VM sizes) and 2021-07-01 (resource SKUs).
        register(COMPUTE, "2019-07-01", "2019-11-01", "2020-05-01", "2020-06-30", "2020-09-30", "2020-12-01",
                "2021-04-01", "2021-07-01", "2021-08-01", "2021-12-01", "2022-03-02", "2022-07-02", "2023-01-02",
                "2023-04-02",
                "2023-10-02", "2024-03-02", "2025-01-02", "2026-03-02", "2026-04-01");
    }

    private ApiVersions() {
    }

    /** Adds versions to a family (creating it); idempotent. */
    public static void register(String family, String... versions) {
        TABLE.computeIfAbsent(key(family), f -> new ConcurrentSkipListSet<>())
                .addAll(List.of(versions).stream().map(v -> v.toLowerCase(Locale.ROOT)).toList());
    }

    public static boolean isRegistered(String family) {
        return TABLE.containsKey(key(family));
    }

    /** The family's versions, newest first. */
    public static List<String> supported(String family) {
        Set<String> versions = TABLE.get(key(family));
        if (versions == null) {
            throw new IllegalStateException("no api-versions registered for " + family);
        }
        return versions.stream().sorted(Comparator.reverseOrder()).toList();
    }

    /**
     * @return the request's {@code api-version}
     * @throws ArmException 400 {@code MissingApiVersionParameter} or {@code InvalidApiVersionParameter}, worded as
     *                      ARM words them
     */
    public static String require(Context ctx, String family) {
        String version = ctx.queryParam("api-version");
        if (version == null || version.isBlank()) {
            throw ArmException.badRequest("MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.");
        }
        List<String> supported = supported(family);
        if (!supported.contains(version.toLowerCase(Locale.ROOT))) {
            throw ArmException.badRequest("InvalidApiVersionParameter", "The api-version '" + version
                    + "' is invalid. The supported versions are '" + String.join(",", supported) + "'.");
        }
        return version;
    }

    private static String key(String family) {
        return family.toLowerCase(Locale.ROOT);
    }
}
