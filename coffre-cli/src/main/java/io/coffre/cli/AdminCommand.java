package io.coffre.cli;

import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Parameters;

@Command(name = "admin", description = "Coffre administration.", subcommands = AdminCommand.Clock.class)
final class AdminCommand {
    /** Lets picocli report a bad duration as a usage error. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return Durations.parse(value);
        }
    }

    @Command(name = "clock", description = "The server's clock (movable on a server started with --manual-clock).")
    static final class Clock extends CliCommand {
        static final List<Output.Column> COLUMNS = List.of(Output.Column.field("Now", "now"),
                Output.Column.field("Manual", "manual"));

        @Command(name = "show", description = "Show the server's time and whether it is manual.")
        int show() {
            return print(session().admin().clock(), COLUMNS);
        }

        @Command(name = "advance", description = "Move a --manual-clock server's time forward.")
        int advance(@Parameters(paramLabel = "DURATION", converter = DurationConverter.class,
                description = "ISO-8601 (P30D, PT2H) or shorthand (30d, 2h, 90m, 1d12h).") Duration by) {
            return print(session().admin().advanceClock(by), null);
        }
    }
}
