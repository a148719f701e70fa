package io.coffre.server;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.CoffreCore;
import io.coffre.arm.ArmException;
import io.coffre.attestation.AttestationService;
import io.coffre.identity.Directory;
import io.coffre.identity.Identity;
import io.coffre.identity.Principal;
import io.coffre.json.Json;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Handler;
import java.util.Map;

/**
 * The attestation service on {@code attest.{suffix}}, shaped like Microsoft Azure Attestation: OIDC metadata and
 * certificates for relying parties, and {@code POST /attest/{type}} for the platform.
 */
final class AttestationRoutes implements RouteModule {
    private final AttestationService attestation;
    private final Identity identity;

    AttestationRoutes(CoffreCore core) {
        this.attestation = core.attestation();
        this.identity = core.identity();
    }

    @Override
    public void register(RoutesConfig routes) {
        routes.get("/.well-known/openid-configuration", attestationHost(ctx -> ctx
                .contentType("application/json; charset=utf-8")
                .result(attestation.openIdConfiguration(Hosts.baseUrl(ctx)))));
        routes.get("/certs", attestationHost(ctx -> ctx.contentType("application/json; charset=utf-8")
                .result(attestation.jwks())));
        routes.post("/attest/{type}", attestationHost(ctx -> {
            requireAttestationCaller(Authn.principal(ctx));
            JsonNode body = Json.parse(ctx.body());
            JsonNode runtimeKey = body.path("runtimeKey");
            if (!runtimeKey.isObject()) {
                throw ArmException.badRequest("BadParameter", "The body must carry the VM's runtime key:"
                        + " {\"runtimeKey\":{\"kty\":\"RSA\",\"n\":\"..\",\"e\":\"..\"}, \"vmId\"?,"
                        + " \"complianceStatus\"?}.");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> jwk = Json.MAPPER.convertValue(runtimeKey, Map.class);
            String token = attestation.issue(ctx.pathParam("type"), jwk, optionalText(body, "vmId"),
                    optionalText(body, "complianceStatus"));
            ctx.json(Map.of("token", token));
        }));
    }

    private static Handler attestationHost(Handler handler) {
        return Hosts.only(RequestHost.Kind.ATTESTATION, handler);
    }

    private static String optionalText(JsonNode body, String field) {
        JsonNode value = body.path(field);
        if (value.isMissingNode() || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ArmException.badRequest("BadParameter", "'" + field + "' must be a string.");
        }
        return value.asText();
    }

    /**
     * Who may have a VM attested: the platform (Confidential VM Orchestrator) and the administrator. Once ARM RBAC
     * exists, Owner at the default subscription belongs here too.
     */
    private void requireAttestationCaller(Principal caller) {
        boolean admin = caller.objectId().equals(identity.admin().objectId());
        if (!admin && !Directory.CVM_ORCHESTRATOR_APP_ID.equalsIgnoreCase(caller.appId())) {
            throw ArmException.forbidden("AuthorizationFailed", "'" + caller.displayName() + "' (" + caller.appId()
                    + ") may not request attestation tokens; only the Confidential VM Orchestrator and the Coffre"
                    + " administrator may.");
        }
    }
}
