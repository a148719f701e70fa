package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.Endpoints;
import io.coffre.json.Json;
import io.coffre.server.ServerInfoFile;
import io.coffre.server.TlsMaterial;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * What {@code {dataDir}/server.json} says about the running server. {@code tenantId} and {@code subscriptionId}
 * are null when the server does not write them; {@link Session} then asks the server instead. {@code nbdPort} (the
 * loopback NBD server of running VMs' disks) is null for servers that do not write it.
 */
record ServerInfo(int port, String dnsSuffix, String bindHost, String tenantId, String subscriptionId,
                  Integer nbdPort) {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    ServerInfo(int port, String dnsSuffix, String bindHost, String tenantId, String subscriptionId) {
        this(port, dnsSuffix, bindHost, tenantId, subscriptionId, null);
    }

    static ServerInfo read(Path dataDir) {
        Path file = dataDir.resolve(ServerInfoFile.FILE);
        if (!Files.exists(file)) {
            throw new CliError("No Coffre server has run with data directory " + dataDir + " (no "
                    + ServerInfoFile.FILE + "). Start one with `coffre server --data-dir " + dataDir
                    + "`, or point --data-dir / COFFRE_DATA_DIR at the server's data directory.");
        }
        JsonNode json;
        try {
            json = Json.MAPPER.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new CliError("Cannot read " + file + ": " + e.getMessage(), e);
        }
        if (!json.path("port").canConvertToInt() || json.path("dnsSuffix").asText("").isEmpty()) {
            throw new CliError(file + " lacks 'port' or 'dnsSuffix'; restart the server to rewrite it.");
        }
        return new ServerInfo(json.path("port").asInt(), json.path("dnsSuffix").asText(),
                json.path("bindHost").asText("127.0.0.1"), json.path("tenantId").asText(null),
                json.path("subscriptionId").asText(null),
                json.path("nbdPort").canConvertToInt() ? json.path("nbdPort").asInt() : null);
    }

    static Path certificateFile(Path dataDir) {
        return dataDir.resolve(TlsMaterial.CERT_FILE);
    }

    Endpoints endpoints() {
        return new Endpoints(dnsSuffix, port);
    }

    /**
     * The address every Coffre host name resolves to: the bind address when it is one specific IPv4 address,
     * loopback otherwise (wildcard or name binds). Decided without {@link java.net.InetAddress}, which must not
     * be touched before the hosts file is in place.
     */
    String connectAddress() {
        return IPV4.matcher(bindHost).matches() && !bindHost.equals("0.0.0.0") ? bindHost : "127.0.0.1";
    }
}
