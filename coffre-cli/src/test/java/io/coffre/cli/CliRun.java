package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs {@code coffre} in-process, as the launcher would, and captures its exit code and output. */
final class CliRun {
    record Result(int code, String out, String err) {
        JsonNode json() {
            return Json.parse(out);
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private CliRun() {
    }

    static Result coffre(String... args) {
        return coffre(Map.of(), args);
    }

    static Result coffre(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Coffre.run(args, env, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }
}
