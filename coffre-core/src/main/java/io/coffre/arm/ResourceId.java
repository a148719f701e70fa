package io.coffre.arm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An ARM resource id: {@code /subscriptions/{s}[/resourceGroups/{rg}[/providers/{ns}/{type}/{name}[/{childType}/{childName}]...]]}
 * or a subscription-level provider resource ({@code /subscriptions/{s}/providers/{ns}/{type}/{name}...}).
 *
 * <p>Segment names ({@code subscriptions}, {@code resourceGroups}, {@code providers}) and every value compare
 * case-insensitively, as ARM does; {@link #toString()} keeps the values' casing and spells the segment names
 * canonically. Extension resources (a second {@code /providers/} inside the id, e.g. role assignments) are not ids
 * of this kind: their owners split off the scope first.
 */
public final class ResourceId {
    public static final String RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups";
    public static final String SUBSCRIPTION_TYPE = "Microsoft.Resources/subscriptions";

    private static final Pattern NAMESPACE = Pattern.compile("[A-Za-z][A-Za-z0-9]*(\\.[A-Za-z][A-Za-z0-9]*)+");
    private static final Pattern RESOURCE_GROUP_NAME_CHARS = Pattern.compile("[-\\w._()]+",
            Pattern.UNICODE_CHARACTER_CLASS);
    private static final int RESOURCE_GROUP_NAME_MAX = 90;

    private record Segment(String type, String name) {
    }

    private final String subscriptionId;
    private final String resourceGroup;
    private final String namespace;
    private final List<Segment> segments;
    private final String text;
    private final String key;

    private ResourceId(String subscriptionId, String resourceGroup, String namespace, List<Segment> segments) {
        this.subscriptionId = subscriptionId;
        this.resourceGroup = resourceGroup;
        this.namespace = namespace;
        this.segments = List.copyOf(segments);
        StringBuilder b = new StringBuilder("/subscriptions/").append(subscriptionId);
        if (resourceGroup != null) {
            b.append("/resourceGroups/").append(resourceGroup);
        }
        if (namespace != null) {
            b.append("/providers/").append(namespace);
            for (Segment s : segments) {
                b.append('/').append(s.type).append('/').append(s.name);
            }
        }
        this.text = b.toString();
        this.key = text.toLowerCase(Locale.ROOT);
    }

    /** @throws ArmException 400 {@code InvalidResourceId} naming what is wrong */
    public static ResourceId parse(String id) {
        if (id == null || id.isBlank()) {
            throw invalid(String.valueOf(id), "it is empty");
        }
        String trimmed = id.endsWith("/") ? id.substring(0, id.length() - 1) : id;
        if (!trimmed.startsWith("/")) {
            throw invalid(id, "it must start with '/subscriptions/'");
        }
        String[] parts = trimmed.substring(1).split("/", -1);
        for (String part : parts) {
            if (part.isEmpty()) {
                throw invalid(id, "it has an empty segment");
            }
            if (part.chars().anyMatch(Character::isISOControl)) {
                throw invalid(id, "it contains control characters");
            }
        }
        if (parts.length < 2 || !parts[0].equalsIgnoreCase("subscriptions")) {
            throw invalid(id, "it must start with '/subscriptions/{subscriptionId}'");
        }
        String subscription = parts[1];
        int i = 2;
        String group = null;
        if (i < parts.length && parts[i].equalsIgnoreCase("resourceGroups")) {
            if (i + 1 >= parts.length) {
                throw invalid(id, "'resourceGroups' is not followed by a name");
            }
            group = parts[i + 1];
            i += 2;
        }
        if (i == parts.length) {
            return new ResourceId(subscription, group, null, List.of());
        }
        if (!parts[i].equalsIgnoreCase("providers")) {
            throw invalid(id, "'" + parts[i] + "' is not 'resourceGroups' or 'providers'");
        }
        if (i + 1 >= parts.length || !NAMESPACE.matcher(parts[i + 1]).matches()) {
            throw invalid(id, "'providers' must be followed by a namespace such as Microsoft.KeyVault");
        }
        String ns = parts[i + 1];
        int rest = parts.length - (i + 2);
        if (rest == 0 || rest % 2 != 0) {
            throw invalid(id, "the provider part must be {type}/{name} pairs");
        }
        List<Segment> segments = new ArrayList<>();
        for (int j = i + 2; j < parts.length; j += 2) {
            if (parts[j].equalsIgnoreCase("providers")) {
                throw invalid(id, "extension resources (a second '/providers/') are not resource ids here");
            }
            segments.add(new Segment(parts[j], parts[j + 1]));
        }
        return new ResourceId(subscription, group, ns, segments);
    }

    public static ResourceId subscription(String subscriptionId) {
        return new ResourceId(segment(subscriptionId, "subscription id"), null, null, List.of());
    }

    public static ResourceId resourceGroup(String subscriptionId, String resourceGroup) {
        return new ResourceId(segment(subscriptionId, "subscription id"), segment(resourceGroup, "resource group"),
                null, List.of());
    }

    /**
     * A provider resource in this resource group or subscription, e.g. {@code rg.resource("Microsoft.KeyVault",
     * "vaults", "kv1")}.
     */
    public ResourceId resource(String providerNamespace, String type, String name) {
        if (namespace != null) {
            throw new IllegalStateException(this + " is already a provider resource; use child()");
        }
        if (providerNamespace == null || !NAMESPACE.matcher(providerNamespace).matches()) {
            throw invalid(text + "/providers/" + providerNamespace, "'" + providerNamespace
                    + "' is not a provider namespace such as Microsoft.KeyVault");
        }
        return new ResourceId(subscriptionId, resourceGroup, providerNamespace,
                List.of(new Segment(segment(type, "resource type"), segment(name, "resource name"))));
    }

    /** A child of this provider resource, e.g. {@code vault.child("keys", "k1")}. */
    public ResourceId child(String type, String name) {
        if (namespace == null) {
            throw new IllegalStateException(this + " is not a provider resource; use resource()");
        }
        List<Segment> more = new ArrayList<>(segments);
        more.add(new Segment(segment(type, "resource type"), segment(name, "resource name")));
        return new ResourceId(subscriptionId, resourceGroup, namespace, more);
    }

    /** The enclosing resource, resource group or subscription; empty for a subscription. */
    public Optional<ResourceId> parent() {
        if (segments.size() > 1) {
            return Optional.of(new ResourceId(subscriptionId, resourceGroup, namespace,
                    segments.subList(0, segments.size() - 1)));
        }
        if (namespace != null) {
            return Optional.of(new ResourceId(subscriptionId, resourceGroup, null, List.of()));
        }
        if (resourceGroup != null) {
            return Optional.of(new ResourceId(subscriptionId, null, null, List.of()));
        }
        return Optional.empty();
    }

    /** The top-level provider resource this id is or lies under (a vault for a key id); empty above that level. */
    public Optional<ResourceId> topLevelResource() {
        return namespace == null ? Optional.empty()
                : Optional.of(new ResourceId(subscriptionId, resourceGroup, namespace, segments.subList(0, 1)));
    }

    public String subscriptionId() {
        return subscriptionId;
    }

    /** The resource group name, or null for subscription-level ids. */
    public String resourceGroup() {
        return resourceGroup;
    }

    /** The provider namespace (e.g. {@code Microsoft.KeyVault}), or null for subscriptions and resource groups. */
    public String provider() {
        return namespace;
    }

    /** The full resource type, e.g. {@code Microsoft.KeyVault/vaults/keys} or {@code Microsoft.Resources/resourceGroups}. */
    public String type() {
        if (namespace == null) {
            return resourceGroup != null ? RESOURCE_GROUP_TYPE : SUBSCRIPTION_TYPE;
        }
        StringBuilder b = new StringBuilder(namespace);
        segments.forEach(s -> b.append('/').append(s.type));
        return b.toString();
    }

    /** The last name in the id: the resource's, else the resource group's, else the subscription id. */
    public String name() {
        if (namespace != null) {
            return segments.get(segments.size() - 1).name;
        }
        return resourceGroup != null ? resourceGroup : subscriptionId;
    }

    public boolean isSubscription() {
        return resourceGroup == null && namespace == null;
    }

    public boolean isResourceGroup() {
        return resourceGroup != null && namespace == null;
    }

    /** True when {@code other} lies strictly below this id (a vault is an ancestor of its keys). */
    public boolean isAncestorOf(ResourceId other) {
        return other.key.startsWith(key + "/");
    }

    /** True when {@code other} is this id or lies below it: the reach of a role assignment at this scope. */
    public boolean covers(ResourceId other) {
        return key.equals(other.key) || isAncestorOf(other);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResourceId other && key.equals(other.key);
    }

    @Override
    public int hashCode() {
        return key.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }

    /** The canonical form a resource id is stored and compared under (ARM ids are case-insensitive). */
    public static String key(String resourceId) {
        return parse(resourceId).toString().toLowerCase(Locale.ROOT);
    }

    /**
     * Checks a resource group name as ARM does: 1–90 letters, digits, {@code - _ . ( )}, not ending in a period.
     *
     * @return the name, unchanged
     * @throws ArmException 400 {@code InvalidResourceGroup}
     */
    public static String requireResourceGroupName(String name) {
        if (name == null || name.isEmpty() || name.length() > RESOURCE_GROUP_NAME_MAX) {
            throw ArmException.badRequest("InvalidResourceGroup", "The provided resource group name '" + name
                    + "' must be 1 to " + RESOURCE_GROUP_NAME_MAX + " characters long.");
        }
        if (!RESOURCE_GROUP_NAME_CHARS.matcher(name).matches()) {
            StringBuilder bad = new StringBuilder();
            name.codePoints().filter(c -> !RESOURCE_GROUP_NAME_CHARS.matcher(Character.toString(c)).matches())
                    .distinct().forEach(bad::appendCodePoint);
            throw ArmException.badRequest("InvalidResourceGroup", "The provided resource group name '" + name
                    + "' has these invalid characters: '" + bad + "'. The name can only be a letter, digit, '-', '.',"
                    + " '(', ')' or '_'.");
        }
        if (name.endsWith(".")) {
            throw ArmException.badRequest("InvalidResourceGroup", "The provided resource group name '" + name
                    + "' ends with a period; resource group names cannot end with '.'.");
        }
        return name;
    }

    /** One path segment of an id built from parts: a '/' inside would silently address something else. */
    private static String segment(String value, String what) {
        if (value == null || value.isEmpty() || value.contains("/") || value.chars().anyMatch(Character::isISOControl)) {
            throw ArmException.badRequest("InvalidResourceId", "The " + what + " '" + value
                    + "' is not valid in a resource id: it must be non-empty, without '/' or control characters.");
        }
        return value;
    }

    private static ArmException invalid(String id, String why) {
        return ArmException.badRequest("InvalidResourceId", "The resource id '" + id + "' is not valid: " + why
                + ". Expected /subscriptions/{subscriptionId}[/resourceGroups/{resourceGroupName}]"
                + "[/providers/{namespace}/{type}/{name}[/{childType}/{childName}]...].");
    }
}
