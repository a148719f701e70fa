package io.coffre.keyvault.crypto;

import io.coffre.arm.ArmException;

/** The two ways a key operation is refused: a bad request, or a value this key version cannot decrypt. */
final class CryptoErrors {
    static final String BAD_PARAMETER = "BadParameter";

    private CryptoErrors() {
    }

    static ArmException badParameter(String message) {
        return ArmException.badRequest(BAD_PARAMETER, message);
    }

    /** Deliberately one message for every cause (tag, padding, integrity check), so it reveals nothing more. */
    static ArmException undecryptable(Algorithm alg, KeyMaterial key) {
        return badParameter("The value could not be decrypted with this key version (alg " + alg.wire() + ", "
                + key.type().wire() + " key): it was encrypted under another key or algorithm, or altered.");
    }
}
