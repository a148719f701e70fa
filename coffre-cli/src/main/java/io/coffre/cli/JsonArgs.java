package io.coffre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** JSON given on the command line as az takes it: inline ({@code '{"a":1}'}), {@code @file.json} or a file path. */
final class JsonArgs {
    private JsonArgs() {
    }

    static JsonNode read(String arg, String option) {
        String text = arg.strip();
        if (!text.startsWith("{") && !text.startsWith("[")) {
            Path file = Path.of(text.startsWith("@") ? text.substring(1) : text);
            if (!Files.isRegularFile(file)) {
                throw new CliError(option + " takes inline JSON, @FILE or a file path; " + file + " is not a file.");
            }
            try {
                text = Files.readString(file);
            } catch (IOException e) {
                throw new CliError("Cannot read " + file + " for " + option + ": " + e.getMessage(), e);
            }
        }
        try {
            return Json.MAPPER.readTree(text);
        } catch (IOException e) {
            throw new CliError(option + " is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }
}
