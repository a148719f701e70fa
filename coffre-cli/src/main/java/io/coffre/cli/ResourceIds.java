package io.coffre.cli;

/** Reading ARM resource ids ({@code /subscriptions/s/resourceGroups/rg/providers/...}). */
final class ResourceIds {
    private ResourceIds() {
    }

    /** The segment after {@code key} (case-insensitive), e.g. the resource group; null when absent. */
    static String part(String id, String key) {
        String[] parts = id.split("/");
        for (int i = 0; i < parts.length - 1; i++) {
            if (parts[i].equalsIgnoreCase(key)) {
                return parts[i + 1];
            }
        }
        return null;
    }

    static String lastSegment(String id) {
        String trimmed = id.endsWith("/") ? id.substring(0, id.length() - 1) : id;
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }
}
