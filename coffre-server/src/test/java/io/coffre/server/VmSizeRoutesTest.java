package io.coffre.server;

import static io.coffre.server.ArmClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.coffre.identity.Principal;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What {@code az vm list-sizes} and {@code az vm list-skus} read: the sizes each region offers. */
class VmSizeRoutesTest {
    private static final String V = "?api-version=2026-04-01";
    private static final String SKUS_VERSION = "?api-version=2021-07-01";
    private static TestServer server;
    private static ArmClient admin;
    private static String compute;

    @BeforeAll
    static void start() {
        server = TestServer.start(true);
        admin = ArmClient.admin(server);
        compute = "/subscriptions/" + admin.subscriptionId() + "/providers/Microsoft.Compute";
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void listsTheSizesOfARegion() {
        HttpResponse<String> listed = admin.get(compute + "/locations/uaenorth/vmSizes" + V);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        JsonNode dc2 = entry(json(listed), "Standard_DC2as_v6");
        assertThat(dc2.get("numberOfCores").asInt()).isEqualTo(2);
        assertThat(dc2.get("memoryInMB").asInt()).isEqualTo(8192);
        assertThat(dc2.get("maxDataDiskCount").asInt()).isEqualTo(4);
        assertThat(dc2.get("osDiskSizeInMB").asInt()).isEqualTo(1_047_552);
        assertThat(dc2.get("resourceDiskSizeInMB").asInt()).as("Coffre's VMs have no temporary disk").isZero();
        assertThat(names(json(listed))).contains("Standard_DC2es_v6", "Standard_D2s_v5", "Standard_DC2as_v5");
        assertThat(names(json(admin.get(compute + "/locations/UAE%20Central/vmSizes" + V))))
                .as("v6 only in the paired region").contains("Standard_DC2as_v6").doesNotContain("Standard_DC2as_v5");

        assertThat(names(json(admin.get(compute + "/locations/brazilsouth/vmSizes" + V))))
                .containsExactly("Standard_D2s_v5", "Standard_D4s_v5");

        HttpResponse<String> unknown = admin.get(compute + "/locations/atlantis/vmSizes" + V);
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(json(unknown).at("/error/code").asText()).isEqualTo("LocationNotAvailableForResourceType");
    }

    @Test
    void listsResourceSkusOfOneRegionOrAll() {
        HttpResponse<String> filtered = admin.get(compute + "/skus" + SKUS_VERSION + "&$filter="
                + URLEncoder.encode("location eq 'koreacentral'", StandardCharsets.UTF_8));
        assertThat(filtered.statusCode()).as(filtered.body()).isEqualTo(200);
        JsonNode ec2 = entry(json(filtered), "Standard_EC2as_v6");
        assertThat(ec2.get("resourceType").asText()).isEqualTo("virtualMachines");
        assertThat(ec2.get("tier").asText()).isEqualTo("Standard");
        assertThat(ec2.get("size").asText()).isEqualTo("EC2as_v6");
        assertThat(ec2.get("family").asText()).isEqualTo("standardECASv6Family");
        assertThat(ec2.at("/locations/0").asText()).isEqualTo("koreacentral");
        assertThat(ec2.at("/locationInfo/0/location").asText()).isEqualTo("koreacentral");
        assertThat(capability(ec2, "vCPUs")).isEqualTo("2");
        assertThat(capability(ec2, "MemoryGB")).isEqualTo("16");
        assertThat(capability(ec2, "ConfidentialComputingType")).isEqualTo("SNP");
        assertThat(capability(ec2, "HyperVGenerations")).isEqualTo("V2");
        assertThat(ec2.get("restrictions").isEmpty()).isTrue();
        assertThat(capability(entry(json(filtered), "Standard_DC2es_v6"), "ConfidentialComputingType"))
                .isEqualTo("TDX");
        assertThat(json(filtered).get("value")).allSatisfy(s ->
                assertThat(s.at("/locations/0").asText()).isEqualTo("koreacentral"));

        JsonNode all = json(admin.get(compute + "/skus" + SKUS_VERSION)).get("value");
        assertThat(all.size()).isGreaterThan(json(filtered).get("value").size());
        List<String> dc2Regions = new ArrayList<>();
        all.forEach(s -> {
            if (s.get("name").asText().equals("Standard_DC2as_v6")) {
                dc2Regions.add(s.at("/locations/0").asText());
            }
        });
        assertThat(dc2Regions).contains("uaenorth", "koreacentral", "uaecentral").doesNotContain("brazilsouth");

        HttpResponse<String> badFilter = admin.get(compute + "/skus" + SKUS_VERSION + "&$filter="
                + URLEncoder.encode("name eq 'Standard_DC2as_v6'", StandardCharsets.UTF_8));
        assertThat(badFilter.statusCode()).isEqualTo(400);
        assertThat(json(badFilter).at("/error/code").asText()).isEqualTo("InvalidFilter");
    }

    @Test
    void aReaderMayListAndACallerWithoutARoleMayNot() {
        Principal app = server.server().core().identity().createServicePrincipal("sizes-reader").principal();
        ArmClient reader = new ArmClient(server, app);
        HttpResponse<String> refused = reader.get(compute + "/locations/uaenorth/vmSizes" + V);
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(json(refused).at("/error/message").asText()).contains("Microsoft.Compute/locations/vmSizes/read");
        assertThat(reader.get(compute + "/skus" + SKUS_VERSION).statusCode()).isEqualTo(403);

        String sub = "/subscriptions/" + admin.subscriptionId();
        HttpResponse<String> granted = admin.send("PUT", sub + "/providers/Microsoft.Authorization/roleAssignments/"
                + UUID.randomUUID() + "?api-version=2022-04-01", "{\"properties\":{\"roleDefinitionId\":\"" + sub
                + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7\","
                + "\"principalId\":\"" + app.objectId() + "\"}}");
        assertThat(granted.statusCode()).as(granted.body()).isEqualTo(201);
        assertThat(reader.get(compute + "/locations/uaenorth/vmSizes" + V).statusCode()).isEqualTo(200);
        assertThat(reader.get(compute + "/skus" + SKUS_VERSION).statusCode()).isEqualTo(200);
    }

    private static JsonNode entry(JsonNode list, String name) {
        for (JsonNode s : list.get("value")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError(name + " is not listed: " + list);
    }

    private static List<String> names(JsonNode list) {
        return list.get("value").findValuesAsText("name");
    }

    private static String capability(JsonNode sku, String name) {
        for (JsonNode c : sku.get("capabilities")) {
            if (c.get("name").asText().equals(name)) {
                return c.get("value").asText();
            }
        }
        throw new AssertionError(sku.get("name") + " has no capability " + name);
    }
}
