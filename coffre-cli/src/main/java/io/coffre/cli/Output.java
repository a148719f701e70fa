package io.coffre.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/** Prints results: pretty JSON (the default, as the server sent it) or an az-style table ({@code -o table}). */
final class Output {
    enum Format { json, table }

    /** A table column: its header and how to get the cell text from one row. */
    record Column(String header, Function<JsonNode, String> value) {
        /** A column reading a dotted path such as {@code attributes.enabled}. */
        static Column field(String header, String dottedPath) {
            return new Column(header, row -> text(at(row, dottedPath)));
        }
    }

    private final PrintWriter out;
    private final Format format;

    Output(PrintWriter out, Format format) {
        this.out = out;
        this.format = format;
    }

    /**
     * @param columns the table columns for this kind of resource; null: the rows' top-level scalar fields
     */
    void print(JsonNode value, List<Column> columns) {
        if (value == null || value.isNull() || value.isMissingNode()) {
            return;
        }
        out.println(format == Format.table ? table(value, columns) : json(value));
        out.flush();
    }

    static String json(JsonNode value) {
        if (value.isTextual()) {
            return value.asText();
        }
        try {
            return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String table(JsonNode value, List<Column> columns) {
        if (value.isValueNode()) {
            return value.asText();
        }
        List<JsonNode> rows = new ArrayList<>();
        if (value.isArray()) {
            value.forEach(rows::add);
        } else {
            rows.add(value);
        }
        List<Column> cols = columns != null ? columns : scalarColumns(rows);
        String[][] cells = new String[rows.size() + 1][cols.size()];
        int[] widths = new int[cols.size()];
        for (int c = 0; c < cols.size(); c++) {
            cells[0][c] = cols.get(c).header();
            for (int r = 0; r < rows.size(); r++) {
                cells[r + 1][c] = cols.get(c).value().apply(rows.get(r));
            }
            for (String[] row : cells) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        StringBuilder sb = new StringBuilder();
        appendRow(sb, cells[0], widths);
        appendRow(sb, java.util.Arrays.stream(widths).mapToObj("-"::repeat).toArray(String[]::new), widths);
        for (int r = 1; r < cells.length; r++) {
            appendRow(sb, cells[r], widths);
        }
        return sb.toString().stripTrailing();
    }

    private static void appendRow(StringBuilder sb, String[] cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.length; c++) {
            line.append(String.format("%-" + Math.max(1, widths[c]) + "s", cells[c]));
            if (c < cells.length - 1) {
                line.append("  ");
            }
        }
        sb.append(line.toString().stripTrailing()).append('\n');
    }

    private static List<Column> scalarColumns(List<JsonNode> rows) {
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode row : rows) {
            row.fields().forEachRemaining(f -> {
                if (f.getValue().isValueNode()) {
                    names.add(f.getKey());
                }
            });
        }
        List<Column> cols = new ArrayList<>();
        names.forEach(n -> cols.add(Column.field(capitalize(n), n)));
        return cols;
    }

    private static String capitalize(String name) {
        return name.isEmpty() ? name : Character.toUpperCase(name.charAt(0)) + name.substring(1);
    }

    static JsonNode at(JsonNode node, String dottedPath) {
        JsonNode current = node;
        for (String part : dottedPath.split("\\.")) {
            current = current.path(part);
        }
        return current;
    }

    static String text(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return "";
        }
        return node.isValueNode() ? node.asText() : node.toString();
    }
}
