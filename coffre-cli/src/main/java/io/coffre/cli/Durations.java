package io.coffre.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Durations as users type them: ISO-8601 ({@code P30D}, {@code PT2H}) or shorthand ({@code 30d}, {@code 1d12h}). */
final class Durations {
    private static final Pattern SHORTHAND = Pattern.compile("(?:\\d+[dhms])+");
    private static final Pattern PART = Pattern.compile("(\\d+)([dhms])");

    private Durations() {
    }

    /** @throws IllegalArgumentException saying which forms are accepted */
    static Duration parse(String text) {
        String t = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        Duration parsed;
        if (t.startsWith("p") || t.startsWith("-p")) {
            try {
                parsed = Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw invalid(text, " (months and years vary in length: give days)");
            }
        } else if (SHORTHAND.matcher(t).matches()) {
            parsed = Duration.ZERO;
            Matcher part = PART.matcher(t);
            while (part.find()) {
                long n = Long.parseLong(part.group(1));
                parsed = parsed.plus(switch (part.group(2)) {
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                });
            }
        } else {
            throw invalid(text, "");
        }
        if (parsed.isNegative()) {
            throw new IllegalArgumentException("'" + text + "' is negative; the clock only moves forward.");
        }
        return parsed;
    }

    private static IllegalArgumentException invalid(String text, String why) {
        return new IllegalArgumentException("'" + text + "' is not a duration" + why + ": use ISO-8601 (P30D, PT2H, "
                + "P1DT12H) or shorthand (30d, 2h, 90m, 45s, 1d12h).");
    }
}
