package io.coffre.authorization;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A role's action patterns compiled once. A star matches any run of characters, slashes included: the pattern
 * {@code Microsoft.KeyVault/vaults/*} covers {@code Microsoft.KeyVault/vaults/keys/read}, and a star followed by
 * {@code /read} covers every read. Matching ignores case, as in Azure.
 */
final class ActionPattern {
    private final List<Pattern> patterns;

    private ActionPattern(List<Pattern> patterns) {
        this.patterns = patterns;
    }

    static ActionPattern of(List<String> actions) {
        return new ActionPattern(actions.stream().map(ActionPattern::compile).toList());
    }

    boolean matches(String action) {
        for (Pattern p : patterns) {
            if (p.matcher(action).matches()) {
                return true;
            }
        }
        return false;
    }

    private static Pattern compile(String action) {
        String[] literals = action.split("\\*", -1);
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < literals.length; i++) {
            if (i > 0) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(literals[i]));
        }
        return Pattern.compile(regex.toString(), Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
    }
}
