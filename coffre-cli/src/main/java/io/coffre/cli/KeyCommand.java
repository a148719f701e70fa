package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "key", description = "Manage keys in a key vault (--vault-name) or managed HSM (--hsm-name).",
        subcommands = KeyCommand.RotationPolicyCommand.class)
final class KeyCommand extends CliCommand {
    private static final Pattern BASE64URL = Pattern.compile("[A-Za-z0-9_-]*={0,2}");
    private static final Set<String> KEY_TYPES = Set.of("RSA", "RSA-HSM", "EC", "EC-HSM", "oct", "oct-HSM");

    private static String kid(JsonNode row) {
        return row.path("key").path("kid").asText(row.path("kid").asText(""));
    }

    static final List<Output.Column> COLUMNS = List.of(
            new Output.Column("Name", row -> Objects.toString(ResourceIds.part(kid(row), "keys"), "")),
            new Output.Column("Kid", KeyCommand::kid), field("Enabled", "attributes.enabled"));
    static final List<Output.Column> DELETED_COLUMNS = List.of(
            new Output.Column("Name", row -> Objects.toString(ResourceIds.part(kid(row), "keys"), "")),
            field("RecoveryId", "recoveryId"), field("ScheduledPurgeDate", "scheduledPurgeDate"));

    /** The key service: {@code --vault-name V} or {@code --hsm-name H}. */
    static final class Target {
        @Option(names = "--vault-name", paramLabel = "VAULT", description = "Key vault name.")
        String vault;

        @Option(names = "--hsm-name", paramLabel = "HSM", description = "Managed HSM name.")
        String hsm;

        KeyService on(Session session) {
            return vault != null ? session.vault(vault) : session.managedHsm(hsm);
        }
    }

    private KeyService keys(Target target) {
        return target.on(session());
    }

    @Command(name = "create", description = "Create a key, or a new version of an existing one.")
    int create(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--kty", defaultValue = "RSA", paramLabel = "TYPE",
                       description = "RSA, RSA-HSM, EC, EC-HSM, oct or oct-HSM (default: ${DEFAULT-VALUE}).") String kty,
               @Option(names = "--size", paramLabel = "BITS", description = "RSA: 2048, 3072, 4096; oct: 128..256.")
               Integer size,
               @Option(names = "--curve", paramLabel = "CURVE", description = "EC: P-256, P-384, P-521, P-256K.")
               String curve,
               @Option(names = "--ops", arity = "1..*", paramLabel = "OP",
                       description = "Permitted operations, e.g. wrapKey unwrapKey sign verify.") List<String> ops,
               @Option(names = "--exportable", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
                       description = "The key can be released (needs a release policy).") Boolean exportable,
               @Option(names = "--default-cvm-policy",
                       description = "Release policy: confidential VMs attested by this server's attestation service.")
               boolean defaultCvmPolicy,
               @Option(names = "--policy", paramLabel = "JSON|@FILE", description = "Release policy JSON.")
               String policy,
               @Option(names = "--immutable", arity = "0..1", fallbackValue = "true", paramLabel = "BOOL",
                       description = "The release policy can never change.") Boolean immutable) {
        if (defaultCvmPolicy && policy != null) {
            throw new UsageError("--policy and --default-cvm-policy are mutually exclusive.");
        }
        checkCreateArguments(kty, size, curve, defaultCvmPolicy || policy != null, immutable);
        JsonNode releasePolicy = defaultCvmPolicy ? CvmPolicy.defaultPolicy(session().attestationAuthority())
                : policy != null ? JsonArgs.read(policy, "--policy") : null;
        ObjectNode parameters = createParameters(kty, size, curve, ops, exportable, releasePolicy, immutable);
        return print(keys(target).create(name, parameters), COLUMNS);
    }

    /** Refuses argument combinations that cannot work, before anything is sent. */
    static void checkCreateArguments(String kty, Integer size, String curve, boolean hasReleasePolicy,
                                     Boolean immutable) {
        if (!KEY_TYPES.contains(kty)) {
            throw new UsageError("--kty is one of " + String.join(", ", KEY_TYPES.stream().sorted().toList())
                    + "; got '" + kty + "'.");
        }
        boolean ec = kty.startsWith("EC");
        if (curve != null && !ec) {
            throw new UsageError("--curve is for EC keys; " + kty + " keys take --size.");
        }
        if (size != null && ec) {
            throw new UsageError("--size is for RSA and oct keys; EC keys take --curve.");
        }
        if (immutable != null && !hasReleasePolicy) {
            throw new UsageError("--immutable applies to a release policy: add --policy or --default-cvm-policy.");
        }
    }

    /** The {@code KeyCreateParameters} body. */
    static ObjectNode createParameters(String kty, Integer size, String curve, List<String> ops, Boolean exportable,
                                       JsonNode releasePolicy, Boolean immutable) {
        checkCreateArguments(kty, size, curve, releasePolicy != null, immutable);
        ObjectNode p = Json.object().put("kty", kty);
        if (size != null) {
            p.put("key_size", size);
        }
        if (curve != null) {
            p.put("crv", curve);
        }
        if (ops != null) {
            ArrayNode keyOps = p.putArray("key_ops");
            ops.forEach(keyOps::add);
        }
        ObjectNode attributes = p.putObject("attributes").put("enabled", true);
        if (exportable != null) {
            attributes.put("exportable", exportable);
        }
        if (releasePolicy != null) {
            ObjectNode rp = p.putObject("release_policy");
            rp.put("contentType", "application/json; charset=utf-8");
            rp.put("data", Json.b64url(Json.write(releasePolicy).getBytes(StandardCharsets.UTF_8)));
            if (immutable != null) {
                rp.put("immutable", immutable);
            }
        }
        return p;
    }

    @Command(name = "show", description = "Show a key (the latest version unless --version).")
    int show(@ArgGroup(multiplicity = "1") Target target,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
             @Option(names = "--version", paramLabel = "VERSION") String version) {
        return print(keys(target).get(name, version), COLUMNS);
    }

    @Command(name = "list", description = "List keys.")
    int list(@ArgGroup(multiplicity = "1") Target target) {
        return print(keys(target).list(), COLUMNS);
    }

    @Command(name = "list-versions", description = "List a key's versions.")
    int listVersions(@ArgGroup(multiplicity = "1") Target target,
                     @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(keys(target).versions(name), COLUMNS);
    }

    @Command(name = "list-deleted", description = "List soft-deleted keys.")
    int listDeleted(@ArgGroup(multiplicity = "1") Target target) {
        return print(keys(target).deleted(), DELETED_COLUMNS);
    }

    @Command(name = "show-deleted", description = "Show a soft-deleted key.")
    int showDeleted(@ArgGroup(multiplicity = "1") Target target,
                    @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(keys(target).getDeleted(name), DELETED_COLUMNS);
    }

    @Command(name = "rotate", description = "Create a new version of a key with the same parameters.")
    int rotate(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(keys(target).rotate(name), COLUMNS);
    }

    @Command(name = "backup", description = "Write a key's backup blob (all versions) to a new file.")
    int backup(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE") Path file) {
        if (Files.exists(file)) {
            throw new UsageError(file + " already exists; choose another --file.");
        }
        byte[] blob = keys(target).backup(name);
        try {
            Files.write(file, blob, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new UsageError(file + " already exists; choose another --file.");
        } catch (IOException e) {
            throw new CliError("Cannot write the backup to " + file + ": " + e.getMessage(), e);
        }
        return 0;
    }

    @Command(name = "restore", description = "Restore a key (all versions) from a backup file.")
    int restore(@ArgGroup(multiplicity = "1") Target target,
                @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE") Path file) {
        byte[] blob;
        try {
            blob = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new CliError("Cannot read the backup file " + file + ": " + e.getMessage(), e);
        }
        return print(keys(target).restore(blob), COLUMNS);
    }

    @Command(name = "delete", description = "Delete (soft-delete) a key and all its versions.")
    int delete(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(keys(target).delete(name), DELETED_COLUMNS);
    }

    @Command(name = "recover", description = "Recover a soft-deleted key.")
    int recover(@ArgGroup(multiplicity = "1") Target target,
                @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        return print(keys(target).recover(name), COLUMNS);
    }

    @Command(name = "purge", description = "Permanently delete a soft-deleted key.")
    int purge(@ArgGroup(multiplicity = "1") Target target,
              @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
        keys(target).purge(name);
        return 0;
    }

    @Command(name = "encrypt", description = "Encrypt a value with a key.")
    int encrypt(@ArgGroup(multiplicity = "1") Target target,
                @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                @Option(names = "--version", paramLabel = "VERSION") String version,
                @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
                @Option(names = "--value", required = true, paramLabel = "BASE64URL") String value,
                @Option(names = "--iv", paramLabel = "BASE64URL") String iv,
                @Option(names = "--aad", paramLabel = "BASE64URL") String aad) {
        ObjectNode p = operation(algorithm, "value", value, "--value");
        optional(p, "iv", iv, "--iv");
        optional(p, "aad", aad, "--aad");
        return print(keys(target).operate(name, version, "encrypt", p), null);
    }

    @Command(name = "decrypt", description = "Decrypt a value with a key.")
    int decrypt(@ArgGroup(multiplicity = "1") Target target,
                @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                @Option(names = "--version", paramLabel = "VERSION") String version,
                @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
                @Option(names = "--value", required = true, paramLabel = "BASE64URL") String value,
                @Option(names = "--iv", paramLabel = "BASE64URL") String iv,
                @Option(names = "--aad", paramLabel = "BASE64URL") String aad,
                @Option(names = "--tag", paramLabel = "BASE64URL") String tag) {
        ObjectNode p = operation(algorithm, "value", value, "--value");
        optional(p, "iv", iv, "--iv");
        optional(p, "aad", aad, "--aad");
        optional(p, "tag", tag, "--tag");
        return print(keys(target).operate(name, version, "decrypt", p), null);
    }

    @Command(name = "wrap", description = "Wrap (encrypt) a key with a key.")
    int wrap(@ArgGroup(multiplicity = "1") Target target,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
             @Option(names = "--version", paramLabel = "VERSION") String version,
             @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
             @Option(names = "--value", required = true, paramLabel = "BASE64URL") String value) {
        ObjectNode p = operation(algorithm, "value", value, "--value");
        return print(keys(target).operate(name, version, "wrapkey", p), null);
    }

    @Command(name = "unwrap", description = "Unwrap (decrypt) a wrapped key with a key.")
    int unwrap(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--version", paramLabel = "VERSION") String version,
               @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
               @Option(names = "--value", required = true, paramLabel = "BASE64URL") String value) {
        ObjectNode p = operation(algorithm, "value", value, "--value");
        return print(keys(target).operate(name, version, "unwrapkey", p), null);
    }

    @Command(name = "sign", description = "Sign a digest with a key.")
    int sign(@ArgGroup(multiplicity = "1") Target target,
             @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
             @Option(names = "--version", paramLabel = "VERSION") String version,
             @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
             @Option(names = {"--digest", "--value"}, required = true, paramLabel = "BASE64URL",
                     description = "The digest to sign (e.g. SHA-256 of the data for RS256).") String digest) {
        ObjectNode p = operation(algorithm, "value", digest, "--digest");
        return print(keys(target).operate(name, version, "sign", p), null);
    }

    @Command(name = "verify", description = "Verify a signature over a digest with a key.")
    int verify(@ArgGroup(multiplicity = "1") Target target,
               @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
               @Option(names = "--version", paramLabel = "VERSION") String version,
               @Option(names = {"-a", "--algorithm"}, required = true, paramLabel = "ALG") String algorithm,
               @Option(names = "--digest", required = true, paramLabel = "BASE64URL") String digest,
               @Option(names = "--signature", required = true, paramLabel = "BASE64URL") String signature) {
        ObjectNode p = operation(algorithm, "digest", digest, "--digest");
        p.put("value", base64url(signature, "--signature"));
        return print(keys(target).operate(name, version, "verify", p), null);
    }

    @Command(name = "release", description = "Release an exportable key to an attested environment.")
    int release(@ArgGroup(multiplicity = "1") Target target,
                @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                @Option(names = "--version", paramLabel = "VERSION") String version,
                @Option(names = "--target", required = true, paramLabel = "TOKEN|@FILE",
                        description = "The attestation token (or @file holding it).") String token,
                @Option(names = "--nonce", paramLabel = "NONCE") String nonce,
                @Option(names = "--enc", paramLabel = "ALG",
                        description = "CKM_RSA_AES_KEY_WRAP, RSA_AES_KEY_WRAP_256 or RSA_AES_KEY_WRAP_384.")
                String enc) {
        ObjectNode p = releaseParameters(readToken(token), nonce, enc);
        return print(keys(target).operate(name, version, "release", p), null);
    }

    static ObjectNode releaseParameters(String token, String nonce, String enc) {
        ObjectNode p = Json.object().put("target", token);
        if (nonce != null) {
            p.put("nonce", nonce);
        }
        if (enc != null) {
            p.put("enc", enc);
        }
        return p;
    }

    private static String readToken(String arg) {
        if (!arg.startsWith("@")) {
            return arg.strip();
        }
        try {
            return Files.readString(Path.of(arg.substring(1))).strip();
        } catch (IOException e) {
            throw new CliError("Cannot read the token file " + arg.substring(1) + ": " + e.getMessage(), e);
        }
    }

    private static ObjectNode operation(String algorithm, String field, String value, String option) {
        return Json.object().put("alg", algorithm).put(field, base64url(value, option));
    }

    private static void optional(ObjectNode p, String field, String value, String option) {
        if (value != null) {
            p.put(field, base64url(value, option));
        }
    }

    /** Checks a base64url argument before it goes on the wire. */
    static String base64url(String value, String option) {
        if (!BASE64URL.matcher(value).matches()) {
            throw new UsageError(option + " must be base64url (A-Z a-z 0-9 - _); got '"
                    + (value.length() > 40 ? value.substring(0, 40) + "..." : value) + "'.");
        }
        return value;
    }

    @Command(name = "rotation-policy", description = "Show or set a key's rotation policy.")
    static final class RotationPolicyCommand extends CliCommand {
        @Command(name = "show", description = "Show a key's rotation policy.")
        int show(@ArgGroup(multiplicity = "1") Target target,
                 @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name) {
            return print(target.on(session()).rotationPolicy(name), null);
        }

        @Command(name = "update", description = "Set a key's rotation policy.")
        int update(@ArgGroup(multiplicity = "1") Target target,
                   @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME") String name,
                   @Option(names = "--value", required = true, paramLabel = "JSON|@FILE",
                           description = "{\"lifetimeActions\":[...],\"attributes\":{\"expiryTime\":\"P2Y\"}}")
                   String value) {
            return print(target.on(session()).updateRotationPolicy(name, JsonArgs.read(value, "--value")), null);
        }
    }
}
