package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.json.Json;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class OutputTest {
    private static final JsonNode KEYS = Json.parse("""
            [{"kid":"https://kv1.vault.coffre.localhost:8443/keys/alpha","attributes":{"enabled":true}},
             {"kid":"https://kv1.vault.coffre.localhost:8443/keys/b","attributes":{"enabled":false}}]""");

    private static String print(Output.Format format, JsonNode value) {
        StringWriter text = new StringWriter();
        new Output(new PrintWriter(text), format).print(value, KeyCommand.COLUMNS);
        return text.toString();
    }

    @Test
    void jsonIsPrettyAndRoundTrips() {
        String printed = print(Output.Format.json, KEYS);
        assertThat(printed.lines().count()).isGreaterThan(10);
        assertThat(printed).contains("\"enabled\" : true");
        assertThat(Json.parse(printed)).isEqualTo(KEYS);
    }

    @Test
    void tableHasTheResourceTypesColumnsAligned() {
        assertThat(print(Output.Format.table, KEYS)).isEqualTo("""
                Name   Kid                                                 Enabled
                -----  --------------------------------------------------  -------
                alpha  https://kv1.vault.coffre.localhost:8443/keys/alpha  true
                b      https://kv1.vault.coffre.localhost:8443/keys/b      false
                """);
    }

    @Test
    void keyBundlesShowTheirNestedKid() {
        JsonNode bundle = Json.parse("""
                {"key":{"kid":"https://h.managedhsm.x/keys/cvm/0123abcd","kty":"RSA-HSM"},"attributes":{"enabled":true}}""");
        assertThat(Output.table(bundle, KeyCommand.COLUMNS)).endsWith("cvm   https://h.managedhsm.x/keys/cvm/0123abcd  true");
    }

    @Test
    void tableWithoutColumnsShowsTopLevelScalars() {
        JsonNode clock = Json.parse("{\"now\":\"2030-01-01T00:00:00Z\",\"manual\":true,\"nested\":{\"a\":1}}");
        assertThat(Output.table(clock, null)).isEqualTo("""
                Now                   Manual
                --------------------  ------
                2030-01-01T00:00:00Z  true""");
    }

    @Test
    void missingFieldsAreEmptyCellsAndEmptyListsHaveOnlyHeaders() {
        assertThat(Output.table(Json.parse("[{\"kid\":\"https://v/keys/k\"}]"), KeyCommand.COLUMNS))
                .endsWith("k     https://v/keys/k");
        assertThat(Output.table(Json.MAPPER.createArrayNode(), KeyCommand.COLUMNS))
                .isEqualTo("Name  Kid  Enabled\n----  ---  -------");
    }

    @Test
    void nothingIsPrintedForAnEmptyResponseAndTextIsPrintedRaw() {
        assertThat(print(Output.Format.json, Json.MAPPER.nullNode())).isEmpty();
        assertThat(print(Output.Format.json, Json.MAPPER.getNodeFactory().textNode("eyJ.a.b"))).isEqualTo("eyJ.a.b\n");
        assertThat(print(Output.Format.table, Json.MAPPER.getNodeFactory().textNode("eyJ.a.b"))).isEqualTo("eyJ.a.b\n");
    }
}
