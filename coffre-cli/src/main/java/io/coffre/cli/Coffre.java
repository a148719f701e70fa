package io.coffre.cli;

import io.coffre.arm.ArmException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * {@code coffre}: the command line of Coffre, shaped like {@code az}. Every command except {@code server} and
 * {@code quickstart} is an HTTPS client of a running server, found through {@code {data-dir}/server.json}.
 */
@Command(name = "coffre", usageHelpAutoWidth = true,
        description = "Coffre: Azure-compatible key vaults, managed HSMs and confidential-VM backup, self-hosted.",
        footer = {"", "The data directory is --data-dir, else $COFFRE_DATA_DIR, else ~/.coffre. Client commands "
                + "authenticate with $COFFRE_TOKEN, else the admin token the server keeps in the data directory."},
        subcommands = {ServerCommand.class, QuickstartCommand.class, GroupCommand.class, KeyVaultCommand.class,
                AdCommand.class, RoleCommand.class, AdminCommand.class, AttestationCommand.class, FeatureCommand.class,
                ProviderCommand.class, DiskCommand.class, SnapshotCommand.class,
                DiskEncryptionSetCommand.class, VmCommand.class, RestorePointCommand.class})
public final class Coffre {
    static final String DATA_DIR_ENV = "COFFRE_DATA_DIR";

    @Option(names = "--data-dir", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "The server's data directory (default: $COFFRE_DATA_DIR, else ~/.coffre).")
    Path dataDir;

    @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "FORMAT",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: json).")
    Output.Format output = Output.Format.json;

    @Option(names = "--subscription", scope = ScopeType.INHERIT, paramLabel = "ID",
            description = "Subscription id (default: the server's subscription).")
    String subscription;

    @Option(names = {"-h", "--help"}, usageHelp = true, scope = ScopeType.INHERIT, description = "Show this help.")
    boolean help;

    private final Map<String, String> env;
    private final PrintWriter out;
    private final PrintWriter err;
    private final Set<String> vaultNames = new LinkedHashSet<>();
    private final Set<String> hsmNames = new LinkedHashSet<>();
    private Session session;

    private Coffre(Map<String, String> env, PrintWriter out, PrintWriter err) {
        this.env = env;
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, System.getenv(), out, err));
    }

    /** Runs one command line; the exit code is 0 on success, 1 on any error, 2 on bad arguments. */
    static int run(String[] args, Map<String, String> env, PrintWriter out, PrintWriter err) {
        Coffre root = new Coffre(env, out, err);
        CommandLine cli = new CommandLine(root);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionStrategy(parsed -> {
            root.collectTargets(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cli.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof UsageError) {
                err.println("ERROR: " + e.getMessage());
                err.println("See '" + command.getCommandSpec().qualifiedName() + " --help'.");
                return 2;
            }
            report(e, err);
            return 1;
        });
        int code = cli.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    /**
     * Prints an error as az does: {@code ERROR: (code) message} for the server's refusals, {@code ERROR: message}
     * for the CLI's own; anything else is a bug and gets its stack trace.
     */
    static void report(Throwable e, PrintWriter err) {
        if (e instanceof ServerError s) {
            err.println("ERROR: " + s);
        } else if (e instanceof ArmException a) {
            err.println("ERROR: (" + a.code() + ") " + a.getMessage());
        } else if (e instanceof CliError) {
            err.println("ERROR: " + e.getMessage());
        } else {
            err.println("ERROR: unexpected " + e);
            e.printStackTrace(err);
        }
        err.flush();
    }

    /** The vault and HSM names on the command line: the data-plane hosts this invocation may contact. */
    private void collectTargets(ParseResult parsed) {
        for (ParseResult level = parsed; level != null; level = level.subcommand()) {
            for (OptionSpec option : level.matchedOptions()) {
                if (option.longestName().equals("--vault-name")) {
                    vaultNames.add(option.getValue());
                } else if (option.longestName().equals("--hsm-name")) {
                    hsmNames.add(option.getValue());
                }
            }
        }
    }

    Path dataDir() {
        if (dataDir != null) {
            return dataDir;
        }
        String fromEnv = env.get(DATA_DIR_ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".coffre");
    }

    Session session() {
        if (session == null) {
            session = new Session(dataDir(), new Output(out, output), err, env.get(Session.TOKEN_ENV), subscription,
                    vaultNames, hsmNames);
        }
        return session;
    }

    /**
     * A session on a server this process started (the quickstart's): its own admin token and subscription, never
     * {@code $COFFRE_TOKEN} or {@code --subscription}, which belong to the user's server.
     */
    Session ownServerSession(Path dir, Set<String> vaults, Set<String> hsms) {
        return new Session(dir, new Output(out, output), err, null, null, vaults, hsms);
    }

    PrintWriter out() {
        return out;
    }

    PrintWriter err() {
        return err;
    }
}
