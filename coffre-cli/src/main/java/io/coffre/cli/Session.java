package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.coffre.Endpoints;
import io.coffre.json.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;

/**
 * One CLI invocation's view of the server: where it is (server.json), how to reach it (hosts file, TLS trust,
 * token), who the caller is, and the API clients the commands use. Everything is resolved lazily, so commands
 * that never talk to a server (or fail argument checks) touch nothing.
 */
final class Session {
    static final String TOKEN_ENV = "COFFRE_TOKEN";
    static final String ADMIN_TOKEN_FILE = "admin-token";
    private static final String SUBSCRIPTIONS_API = "2022-12-01";

    private final Path dataDir;
    private final Output output;
    private final PrintWriter err;
    private final String tokenFromEnv;
    private final String subscriptionOverride;
    private final Set<String> vaultNames;
    private final Set<String> hsmNames;
    private ServerInfo server;
    private CoffreHttp http;
    private String token;
    private JsonNode subscription;

    /**
     * @param vaultNames Key Vaults this invocation may address by host name (they go into the hosts file)
     * @param hsmNames   Managed HSMs likewise
     */
    Session(Path dataDir, Output output, PrintWriter err, String tokenFromEnv, String subscriptionOverride,
            Set<String> vaultNames, Set<String> hsmNames) {
        this.dataDir = dataDir;
        this.output = output;
        this.err = err;
        this.tokenFromEnv = tokenFromEnv;
        this.subscriptionOverride = subscriptionOverride;
        this.vaultNames = vaultNames;
        this.hsmNames = hsmNames;
    }

    Path dataDir() {
        return dataDir;
    }

    Output output() {
        return output;
    }

    /** Standard error, for progress that must not mix with the printed result. */
    PrintWriter err() {
        return err;
    }

    void warn(String message) {
        err.println("WARNING: " + message);
        err.flush();
    }

    ServerInfo server() {
        if (server == null) {
            server = ServerInfo.read(dataDir);
        }
        return server;
    }

    Endpoints endpoints() {
        return server().endpoints();
    }

    /** Every host name an invocation addressing these vaults and HSMs can contact; all resolve to the server. */
    static List<String> hostNames(String suffix, Set<String> vaults, Set<String> hsms) {
        List<String> names = new ArrayList<>(List.of("management." + suffix, "attest." + suffix));
        vaults.forEach(v -> names.add(v + ".vault." + suffix));
        hsms.forEach(h -> names.add(h + ".managedhsm." + suffix));
        return names;
    }

    CoffreHttp http() {
        if (http == null) {
            HostsFile.install(server().connectAddress(), hostNames(server().dnsSuffix(), vaultNames, hsmNames));
            http = new CoffreHttp(CoffreHttp.trusting(ServerInfo.certificateFile(dataDir)), token(),
                    "(No token was sent: set " + TOKEN_ENV + " or check that " + dataDir.resolve(ADMIN_TOKEN_FILE)
                            + " exists.)");
        }
        return http;
    }

    /** {@code COFFRE_TOKEN}, else the admin token the server wrote into the data directory, else null. */
    String token() {
        if (token == null) {
            if (tokenFromEnv != null && !tokenFromEnv.isBlank()) {
                token = tokenFromEnv.strip();
            } else {
                Path file = dataDir.resolve(ADMIN_TOKEN_FILE);
                try {
                    token = Files.exists(file) ? Files.readString(file).strip() : null;
                } catch (IOException e) {
                    throw new CliError("Cannot read " + file + ": " + e.getMessage(), e);
                }
            }
        }
        return token;
    }

    /** The token's claims (not verified: only used to name the caller); empty when there is no JWT. */
    JsonNode tokenClaims() {
        String t = token();
        String[] parts = t == null ? new String[0] : t.split("\\.");
        if (parts.length != 3) {
            return Json.object();
        }
        try {
            return Json.MAPPER.readTree(Base64.getUrlDecoder().decode(parts[1]));
        } catch (IOException | IllegalArgumentException e) {
            return Json.object();
        }
    }

    /** The caller's object id, for access policies and HSM administrators (az asks Graph; the token says it). */
    String callerObjectId() {
        String oid = tokenClaims().path("oid").asText("");
        if (oid.isEmpty()) {
            throw new CliError("Cannot tell who you are: the token has no 'oid' claim. Set " + TOKEN_ENV
                    + " to a Coffre token, or pass the object id explicitly.");
        }
        return oid;
    }

    String tenantId() {
        if (server().tenantId() != null) {
            return server().tenantId();
        }
        String tid = tokenClaims().path("tid").asText("");
        return tid.isEmpty() ? subscription().path("tenantId").asText() : tid;
    }

    String subscriptionId() {
        if (subscriptionOverride != null) {
            return subscriptionOverride;
        }
        if (server().subscriptionId() != null) {
            return server().subscriptionId();
        }
        return subscription().path("subscriptionId").asText();
    }

    /** The server's one subscription, as {@code GET /subscriptions} lists it. */
    private JsonNode subscription() {
        if (subscription == null) {
            ArrayNode all = http().getAll(management() + "/subscriptions?api-version=" + SUBSCRIPTIONS_API);
            if (all.size() != 1) {
                throw new CliError("The server lists " + all.size() + " subscriptions; pass --subscription ID.");
            }
            subscription = all.get(0);
        }
        return subscription;
    }

    String management() {
        return endpoints().managementBase();
    }

    Arm arm() {
        return new Arm(http(), management(), subscriptionId());
    }

    Graph graph() {
        return new Graph(http(), management());
    }

    RoleApi armRoles() {
        return RoleApi.arm(http(), management());
    }

    KeyService vault(String name) {
        return new KeyService(http(), endpoints().vaultUri(name));
    }

    KeyService managedHsm(String name) {
        return new KeyService(http(), endpoints().managedHsmUri(name));
    }

    RoleApi hsmRoles(String name) {
        return RoleApi.managedHsm(http(), endpoints().managedHsmUri(name));
    }

    AdminApi admin() {
        return new AdminApi(http(), management());
    }

    AttestationApi attestation() {
        return new AttestationApi(http(), endpoints().attestationIssuer());
    }

    /** Issuer of the server's attestation service; release policies name it with a trailing slash. */
    String attestationAuthority() {
        return endpoints().attestationIssuer() + "/";
    }
}
