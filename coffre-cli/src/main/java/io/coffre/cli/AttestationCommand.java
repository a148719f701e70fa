package io.coffre.cli;

import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "attestation", description = "The server's attestation service.",
        subcommands = AttestationCommand.Token.class)
final class AttestationCommand {
    @Command(name = "token", description = "Get an attestation token vouching for a runtime key; prints the token.")
    static final class Token extends CliCommand implements java.util.concurrent.Callable<Integer> {
        @Option(names = "--type", required = true, paramLabel = "TYPE",
                description = "${COMPLETION-CANDIDATES}.")
        AttestationApi.Type type;

        @Option(names = "--runtime-key-file", required = true, paramLabel = "FILE",
                description = "The runtime RSA key: a PEM public key or a JWK.")
        Path runtimeKeyFile;

        @Option(names = "--vm-id", paramLabel = "ID", description = "VM id claim (default: chosen by the server).")
        String vmId;

        @Override
        public Integer call() {
            String token = session().attestation().token(type, RuntimeKeys.read(runtimeKeyFile), vmId);
            root().out().println(token);
            root().out().flush();
            return 0;
        }
    }
}
