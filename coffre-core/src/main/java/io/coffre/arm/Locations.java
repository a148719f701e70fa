package io.coffre.arm;

import java.util.Locale;
import java.util.regex.Pattern;

/** ARM location names: {@code "UAE North"} and {@code "uaenorth"} name the same region; the latter is canonical. */
public final class Locations {
    private static final Pattern CANONICAL = Pattern.compile("[a-z0-9]{1,64}");

    private Locations() {
    }

    /**
     * @throws ArmException 400 {@code LocationRequired} when missing, {@code InvalidLocation} when not a region name
     */
    public static String normalize(String location) {
        if (location == null || location.isBlank()) {
            throw ArmException.badRequest("LocationRequired", "The location property is required for this definition.");
        }
        String canonical = location.replace(" ", "").toLowerCase(Locale.ROOT);
        if (!CANONICAL.matcher(canonical).matches()) {
            throw ArmException.badRequest("InvalidLocation", "The location '" + location
                    + "' is not a region name such as 'uaenorth' or 'UAE North'.");
        }
        return canonical;
    }
}
