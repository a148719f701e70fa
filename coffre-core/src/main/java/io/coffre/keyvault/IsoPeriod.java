package io.coffre.keyvault;

import io.coffre.arm.ArmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An ISO-8601 duration as rotation policies write them ({@code P90D}, {@code P18M}, {@code P2Y}, {@code P1Y2M10DT2H}).
 * Applied to a date with calendar arithmetic (UTC); compared with each other in approximate days (a month is 30
 * days, a year 365), which is how the policy minimums are stated.
 */
record IsoPeriod(String text, int years, int months, int weeks, int days, int hours, int minutes, int seconds) {
    private static final Pattern FORMAT = Pattern.compile(
            "^P(?:(\\d+)Y)?(?:(\\d+)M)?(?:(\\d+)W)?(?:(\\d+)D)?(?:T(?:(\\d+)H)?(?:(\\d+)M)?(?:(\\d+)S)?)?$");

    /** @param field named in the error, e.g. {@code lifetimeActions[0].trigger.timeAfterCreate} */
    static IsoPeriod parse(String text, String field) {
        String upper = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
        Matcher m = FORMAT.matcher(upper);
        if (!m.matches() || upper.equals("P") || upper.endsWith("T")) {
            throw ArmException.badRequest("BadParameter", field + " must be an ISO-8601 duration such as P90D, P18M"
                    + " or P2Y (got '" + text + "').");
        }
        try {
            return new IsoPeriod(upper, group(m, 1), group(m, 2), group(m, 3), group(m, 4), group(m, 5),
                    group(m, 6), group(m, 7));
        } catch (NumberFormatException e) {
            throw ArmException.badRequest("BadParameter", field + " is too large (got '" + text + "').");
        }
    }

    private static int group(Matcher m, int i) {
        return m.group(i) == null ? 0 : Integer.parseInt(m.group(i));
    }

    Instant after(Instant start) {
        return shift(start, 1);
    }

    Instant before(Instant end) {
        return shift(end, -1);
    }

    private Instant shift(Instant from, int sign) {
        ZonedDateTime t = from.atZone(ZoneOffset.UTC);
        return t.plusYears((long) sign * years).plusMonths((long) sign * months).plusWeeks((long) sign * weeks)
                .plusDays((long) sign * days).plusHours((long) sign * hours).plusMinutes((long) sign * minutes)
                .plusSeconds((long) sign * seconds).toInstant();
    }

    /** Length in seconds, counting a month as 30 days and a year as 365. */
    long approximateSeconds() {
        return ((years * 365L + months * 30L + weeks * 7L + days) * 24L + hours) * 3600L + minutes * 60L + seconds;
    }

    boolean isShorterThanDays(int minimumDays) {
        return approximateSeconds() < minimumDays * 86_400L;
    }
}
