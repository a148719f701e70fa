package io.coffre.identity;

/**
 * Who is calling: a user, a service principal (incl. the well-known first-party apps) or a managed identity.
 * {@code objectId} is what role assignments and access policies name; {@code appId} is the client id.
 */
public record Principal(String objectId, String appId, String displayName, Type type, String tenantId) {
    public enum Type { User, ServicePrincipal, ManagedIdentity }
}
