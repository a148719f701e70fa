package io.coffre.keyvault;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.arm.ArmException;
import io.coffre.json.Json;
import io.coffre.seal.SealException;
import io.coffre.seal.Sealer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The key backup blob: opaque to its holder, restorable only inside its security domain.
 *
 * <pre>
 * "CKB" | format version (1 byte) | header length (2 bytes, big-endian) | header | sealed payload
 * header  = UTF-8 JSON {"format":"coffre-key-backup","version":1,"securityDomain":"..."}
 * payload = the key (name, rotation policy, every version's attributes and material), sealed under the domain key
 *           with AAD "coffre-key-backup/v1" | header, so neither the header nor the payload can be swapped
 * </pre>
 */
final class KeyBackupFormat {
    private static final byte[] MAGIC = "CKB".getBytes(StandardCharsets.US_ASCII);
    private static final byte VERSION = 1;
    private static final String FORMAT = "coffre-key-backup";
    private static final byte[] AAD_PREFIX = (FORMAT + "/v1").getBytes(StandardCharsets.US_ASCII);

    /** A parsed blob whose payload is not opened yet: the domain it belongs to decides who may open it. */
    record Envelope(String securityDomain, byte[] header, byte[] sealedPayload) {
    }

    private KeyBackupFormat() {
    }

    static byte[] write(String securityDomain, Sealer domainSealer, ObjectNode payload) {
        ObjectNode header = Json.object();
        header.put("format", FORMAT);
        header.put("version", VERSION);
        header.put("securityDomain", securityDomain);
        byte[] headerBytes = Json.write(header).getBytes(StandardCharsets.UTF_8);
        byte[] sealed = domainSealer.seal(Json.write(payload).getBytes(StandardCharsets.UTF_8), aad(headerBytes));
        return ByteBuffer.allocate(MAGIC.length + 1 + 2 + headerBytes.length + sealed.length)
                .put(MAGIC).put(VERSION).putShort((short) headerBytes.length).put(headerBytes).put(sealed).array();
    }

    static Envelope read(byte[] blob) {
        if (blob.length < MAGIC.length + 3 || !Arrays.equals(Arrays.copyOf(blob, MAGIC.length), MAGIC)
                || blob[MAGIC.length] != VERSION) {
            throw damaged();
        }
        ByteBuffer in = ByteBuffer.wrap(blob, MAGIC.length + 1, blob.length - MAGIC.length - 1);
        int headerLength = Short.toUnsignedInt(in.getShort());
        if (headerLength > in.remaining()) {
            throw damaged();
        }
        byte[] header = new byte[headerLength];
        in.get(header);
        byte[] sealed = new byte[in.remaining()];
        in.get(sealed);
        JsonNode parsed;
        try {
            parsed = Json.MAPPER.readTree(header);
        } catch (IOException e) {
            throw damaged();
        }
        if (parsed == null || !FORMAT.equals(parsed.path("format").asText())
                || !parsed.path("securityDomain").isTextual()) {
            throw damaged();
        }
        return new Envelope(parsed.path("securityDomain").asText(), header, sealed);
    }

    static ObjectNode open(Envelope envelope, Sealer domainSealer) {
        try {
            byte[] payload = domainSealer.open(envelope.sealedPayload(), aad(envelope.header()));
            return (ObjectNode) Json.MAPPER.readTree(payload);
        } catch (SealException | IOException | ClassCastException e) {
            throw damaged();
        }
    }

    private static byte[] aad(byte[] header) {
        return ByteBuffer.allocate(AAD_PREFIX.length + header.length).put(AAD_PREFIX).put(header).array();
    }

    private static ArmException damaged() {
        return ArmException.badRequest("BadParameter", "The backup blob is not a key backup of this service, or it"
                + " was altered or truncated. Pass the 'value' returned by POST /keys/{name}/backup unchanged.");
    }
}
