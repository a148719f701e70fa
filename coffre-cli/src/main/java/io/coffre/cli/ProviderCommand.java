package io.coffre.cli;

import static io.coffre.cli.Output.Column.field;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "provider", description = "Register resource providers (Microsoft.Compute ...) for the subscription.")
final class ProviderCommand extends CliCommand {
    static final List<Output.Column> COLUMNS = List.of(field("Namespace", "namespace"),
            field("RegistrationState", "registrationState"));
    static final String REGISTERED = "Registered";
    private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);
    private static final int MAX_POLLS = 120;

    @Command(name = "register", description = "Register a provider; with --wait, poll until it is Registered.")
    int register(@Option(names = {"-n", "--namespace"}, required = true, paramLabel = "NS") String namespace,
                 @Option(names = "--wait", description = "Wait until the registration is done.") boolean wait) {
        Arm arm = session().arm();
        JsonNode provider = arm.registerProvider(namespace);
        if (wait) {
            provider = waitRegistered(arm, namespace, provider);
        } else if (!REGISTERED.equals(provider.path("registrationState").asText())) {
            session().warn("Registering is still on-going. You can monitor using 'coffre provider show -n "
                    + namespace + "'");
        }
        return print(provider, COLUMNS);
    }

    @Command(name = "show", description = "Show a provider and its registration state.")
    int show(@Option(names = {"-n", "--namespace"}, required = true, paramLabel = "NS") String namespace) {
        return print(session().arm().provider(namespace), COLUMNS);
    }

    /** As {@code az provider register --wait}: GET the provider until its state is Registered. */
    private static JsonNode waitRegistered(Arm arm, String namespace, JsonNode provider) {
        for (int poll = 0; !REGISTERED.equals(provider.path("registrationState").asText()); poll++) {
            if (poll == MAX_POLLS) {
                throw new CliError("Provider " + namespace + " is still '" + provider.path("registrationState")
                        .asText() + "' after " + MAX_POLLS * POLL_INTERVAL.toSeconds() + " s; check it later with"
                        + " 'coffre provider show -n " + namespace + "'.");
            }
            try {
                Thread.sleep(POLL_INTERVAL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliError("Interrupted while waiting for provider " + namespace + ".", e);
            }
            provider = arm.provider(namespace);
        }
        return provider;
    }
}
