package io.coffre.server;

import io.coffre.identity.Identity;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code {dataDir}/server.json}: how the CLI (and scripts) find a running server — its port, DNS suffix and bind
 * address — without being told. The TLS certificate to trust sits beside it ({@link TlsMaterial#CERT_FILE}); a
 * certificate given with {@code --tls-cert} is copied there for the same reason.
 */
public final class ServerInfoFile {
    public static final String FILE = "server.json";

    private ServerInfoFile() {
    }

    /** @param nbdPort the port the NBD server of running VMs' disks listens on (loopback) */
    static void write(ServerConfig config, Identity identity, int nbdPort) {
        Path file = config.dataDir().resolve(FILE);
        Path temp = config.dataDir().resolve(FILE + ".tmp");
        try {
            Files.createDirectories(config.dataDir());
            if (config.tlsCert() != null) {
                Files.copy(config.tlsCert(), config.dataDir().resolve(TlsMaterial.CERT_FILE),
                        StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(temp, Json.write(fields(config, identity, nbdPort)), StandardCharsets.UTF_8);
            // Readers never see a half-written file.
            Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static Map<String, Object> fields(ServerConfig config, Identity identity, int nbdPort) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("port", config.port());
        fields.put("dnsSuffix", config.dnsSuffix());
        fields.put("bindHost", config.bindHost());
        fields.put("tenantId", identity.tenantId());
        fields.put("subscriptionId", identity.defaultSubscriptionId());
        fields.put("nbdPort", nbdPort);
        return fields;
    }
}
