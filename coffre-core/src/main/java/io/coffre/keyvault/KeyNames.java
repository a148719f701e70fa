package io.coffre.keyvault;

import io.coffre.arm.ArmException;
import java.util.regex.Pattern;

/** Key names: 1–127 letters, digits and dashes, compared case-insensitively. */
final class KeyNames {
    private static final Pattern NAME = Pattern.compile("^[0-9a-zA-Z-]{1,127}$");

    private KeyNames() {
    }

    static boolean isValid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    static String require(String name) {
        if (!isValid(name)) {
            throw ArmException.badRequest("BadParameter", "The key name '" + name + "' is invalid: a key name is 1-127"
                    + " characters of letters, digits and dashes (^[0-9a-zA-Z-]+$).");
        }
        return name;
    }
}
