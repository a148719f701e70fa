package io.coffre.arm;

/**
 * One ARM resource as the generic resource index knows it: enough for {@code GET /subscriptions/{s}/resources},
 * for finding a resource's group by name (what az does before {@code keyvault set-policy}), and for checking that a
 * scope exists.
 *
 * @param tagsJson the resource's tags as a JSON object, or null when it has none
 */
public record IndexedResource(String id, String subscriptionId, String resourceGroup, String type, String name,
                              String location, String tagsJson) {
}
