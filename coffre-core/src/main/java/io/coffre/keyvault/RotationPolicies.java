package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Key rotation policies: validation of {@code PUT /keys/{name}/rotationpolicy}, the default a key has until one is
 * set, and when a policy's Rotate action is due.
 *
 * <p>Default: as the service answers for a key without a policy, a vault key has one Notify action 30 days before
 * expiry and no {@code expiryTime}; a managed-HSM key (where Notify does not exist) has no actions. Neither rotates.
 */
final class RotationPolicies {
    static final String ROTATE = "Rotate";
    static final String NOTIFY = "Notify";
    private static final String AFTER_CREATE = "timeAfterCreate";
    private static final String BEFORE_EXPIRY = "timeBeforeExpiry";
    private static final int MIN_TRIGGER_DAYS = 7;
    private static final int MIN_EXPIRY_DAYS = 28;

    private RotationPolicies() {
    }

    /** The policy to store, normalized: action types spelled {@code Rotate}/{@code Notify}, durations upper-case. */
    static ObjectNode parse(JsonNode body, boolean managedHsm) {
        if (!body.isObject()) {
            throw badParameter("The rotation policy must be a JSON object {lifetimeActions, attributes}.");
        }
        JsonNode attributes = body.path("attributes");
        if (!attributes.isMissingNode() && !attributes.isNull() && !attributes.isObject()) {
            throw badParameter("attributes must be an object {expiryTime}.");
        }
        IsoPeriod expiry = null;
        ObjectNode storedAttributes = Json.object();
        JsonNode expiryText = attributes.path("expiryTime");
        if (!expiryText.isMissingNode() && !expiryText.isNull()) {
            expiry = IsoPeriod.parse(expiryText.asText(), "attributes.expiryTime");
            if (expiry.isShorterThanDays(MIN_EXPIRY_DAYS)) {
                throw badParameter("attributes.expiryTime must be at least P" + MIN_EXPIRY_DAYS + "D (got "
                        + expiry.text() + ").");
            }
            storedAttributes.put("expiryTime", expiry.text());
        }
        JsonNode actions = body.path("lifetimeActions");
        if (!actions.isMissingNode() && !actions.isNull() && !actions.isArray()) {
            throw badParameter("lifetimeActions must be an array of {trigger, action}.");
        }
        ArrayNode stored = Json.MAPPER.createArrayNode();
        int rotates = 0;
        int notifies = 0;
        for (int i = 0; i < actions.size(); i++) {
            String at = "lifetimeActions[" + i + "]";
            JsonNode entry = actions.get(i);
            String type = actionType(entry.path("action").path("type"), at);
            JsonNode trigger = entry.path("trigger");
            boolean afterCreate = trigger.hasNonNull(AFTER_CREATE);
            boolean beforeExpiry = trigger.hasNonNull(BEFORE_EXPIRY);
            if (afterCreate == beforeExpiry) {
                throw badParameter(at + ".trigger must set exactly one of " + AFTER_CREATE + " and " + BEFORE_EXPIRY
                        + ".");
            }
            String field = afterCreate ? AFTER_CREATE : BEFORE_EXPIRY;
            IsoPeriod period = IsoPeriod.parse(trigger.path(field).asText(), at + ".trigger." + field);
            if (period.isShorterThanDays(MIN_TRIGGER_DAYS)) {
                throw badParameter(at + ".trigger." + field + " must be at least P" + MIN_TRIGGER_DAYS + "D (got "
                        + period.text() + ").");
            }
            if (beforeExpiry) {
                if (expiry == null) {
                    throw badParameter(at + ".trigger." + BEFORE_EXPIRY + " needs attributes.expiryTime: versions"
                            + " must expire for a time before expiry to exist.");
                }
                if (period.approximateSeconds() >= expiry.approximateSeconds()) {
                    throw badParameter(at + ".trigger." + BEFORE_EXPIRY + " (" + period.text() + ") must be shorter"
                            + " than attributes.expiryTime (" + expiry.text() + ").");
                }
            }
            if (type.equals(ROTATE)) {
                rotates++;
            } else {
                if (managedHsm) {
                    throw badParameter(at + ": the Notify action exists only in Key Vault; a managed HSM policy can"
                            + " only Rotate.");
                }
                if (expiry == null) {
                    throw badParameter(at + ": the Notify action needs attributes.expiryTime (it notifies before"
                            + " versions expire).");
                }
                notifies++;
            }
            if (rotates > 1 || notifies > 1) {
                throw badParameter("A rotation policy has at most one Rotate and one Notify action (" + at
                        + " is a second " + type + ").");
            }
            ObjectNode action = stored.addObject();
            action.putObject("trigger").put(field, period.text());
            action.putObject("action").put("type", type);
        }
        ObjectNode policy = Json.object();
        policy.set("lifetimeActions", stored);
        policy.set("attributes", storedAttributes);
        return policy;
    }

    /** The policy as GET returns it: the stored one with its times, or the default. */
    static ObjectNode render(String keyId, KeyRecord key, boolean managedHsm) {
        ObjectNode policy = Json.object();
        policy.put("id", keyId + "/rotationpolicy");
        if (key.rotationPolicy() == null) {
            ArrayNode actions = policy.putArray("lifetimeActions");
            if (!managedHsm) {
                ObjectNode notify = actions.addObject();
                notify.putObject("trigger").put(BEFORE_EXPIRY, "P30D");
                notify.putObject("action").put("type", NOTIFY);
            }
            policy.putObject("attributes");
            return policy;
        }
        policy.set("lifetimeActions", key.rotationPolicy().path("lifetimeActions"));
        ObjectNode attributes = key.rotationPolicy().path("attributes").deepCopy();
        attributes.put("created", key.policyCreated());
        attributes.put("updated", key.policyUpdated());
        policy.set("attributes", attributes);
        return policy;
    }

    /** The expiry a rotated version gets: {@code expiryTime} after its creation, when the policy sets one. */
    static Long rotatedExpiry(KeyRecord key, long createdSeconds) {
        if (key.rotationPolicy() == null || !key.rotationPolicy().path("attributes").hasNonNull("expiryTime")) {
            return null;
        }
        IsoPeriod expiry = IsoPeriod.parse(key.rotationPolicy().path("attributes").path("expiryTime").asText(),
                "attributes.expiryTime");
        return expiry.after(Instant.ofEpochSecond(createdSeconds)).getEpochSecond();
    }

    /** When the Rotate action fires for a key whose latest version is {@code latest}; empty if it never does. */
    static Optional<Instant> rotationDue(ObjectNode policy, KeyVersion latest) {
        if (policy == null) {
            return Optional.empty();
        }
        for (JsonNode action : policy.path("lifetimeActions")) {
            if (!action.path("action").path("type").asText().equals(ROTATE)) {
                continue;
            }
            JsonNode trigger = action.path("trigger");
            if (trigger.hasNonNull(AFTER_CREATE)) {
                return Optional.of(IsoPeriod.parse(trigger.path(AFTER_CREATE).asText(), AFTER_CREATE)
                        .after(Instant.ofEpochSecond(latest.created())));
            }
            if (latest.expiresAt() != null) {
                return Optional.of(IsoPeriod.parse(trigger.path(BEFORE_EXPIRY).asText(), BEFORE_EXPIRY)
                        .before(Instant.ofEpochSecond(latest.expiresAt())));
            }
        }
        return Optional.empty();
    }

    private static String actionType(JsonNode type, String at) {
        String text = type.asText("");
        if (text.toLowerCase(Locale.ROOT).equals("rotate")) {
            return ROTATE;
        }
        if (text.toLowerCase(Locale.ROOT).equals("notify")) {
            return NOTIFY;
        }
        throw badParameter(at + ".action.type must be Rotate or Notify (got '" + text + "').");
    }

    private static ArmException badParameter(String message) {
        return ArmException.badRequest("BadParameter", message);
    }
}
