package io.coffre.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * Named steps run in order, each printed as {@code [n] title ... ok (details)}; the first failure prints the
 * error and stops the walk.
 */
final class Walkthrough {
    /** One step's work; returns details for the "ok (...)" line (empty for none) or throws. */
    @FunctionalInterface
    interface Action {
        String run() throws Exception;
    }

    record Step(String title, Action action) {
    }

    private final List<Step> steps = new ArrayList<>();

    Walkthrough step(String title, Action action) {
        steps.add(new Step(title, action));
        return this;
    }

    List<Step> steps() {
        return List.copyOf(steps);
    }

    /** @return 0 when every step passed, 1 at the first failure (later steps do not run) */
    int run(PrintWriter out, PrintWriter err) {
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            out.print("[" + (i + 1) + "] " + step.title() + " ... ");
            out.flush();
            try {
                String details = step.action().run();
                out.println(details == null || details.isEmpty() ? "ok" : "ok (" + details + ")");
                out.flush();
            } catch (Exception e) {
                out.println("FAILED");
                out.flush();
                Coffre.report(e, err);
                return 1;
            }
        }
        return 0;
    }

    /** Fails the current step when a result is not what the walk expects. */
    static void check(boolean condition, String whatWentWrong) {
        if (!condition) {
            throw new CliError(whatWentWrong);
        }
    }
}
