package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.compute.vm.CvmRequests;
import io.coffre.json.Json;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILLs the server (a process of its own) in the middle of a confidential VM's create — its OS disk made and
 * attached, its first data disk made but not attached —, of an update attaching a new data disk — made, not
 * attached — and of its delete — the OS disk detached but not deleted. Each restarted server resumes the operation
 * its client is polling: the create ends Succeeded with exactly the disks the request named (the ones made before
 * the kill taken over, not made twice), the update with the new disk attached, the delete with the VM gone, the
 * disks with deleteOption Delete deleted and the others detached.
 */
class VmKillTest {
    private static final String GROUP = "/resourceGroups/rg1";
    private static final String VM = GROUP + "/providers/Microsoft.Compute/virtualMachines/vm1";
    private static final String DISKS = GROUP + "/providers/Microsoft.Compute/disks";
    private static final String V = "?api-version=2026-04-01";

    @TempDir
    Path dataDir;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aCreateAndADeleteKilledMidwayFinishAfterRestart() throws Exception {
        int port = FreePort.find("127.0.0.1");
        String subscription;
        String createStatus;
        Map<String, String> madeBeforeTheKill;
        try (ServerProcess held = ServerProcess.start(dataDir, port, ServerChild.HOLD_VM_CREATE)) {
            subscription = "/subscriptions/" + held.subscriptionId();
            held.arm("PUT", subscription + GROUP + "?api-version=2021-04-01", "{\"location\":\"uaenorth\"}", 201);
            ObjectNode body = CvmRequests.confidentialVm(2);
            ((ObjectNode) body.at("/properties/storageProfile/osDisk")).put("deleteOption", "Delete");
            CvmRequests.dataDisks(body).addObject().put("lun", 0).put("createOption", "Empty").put("diskSizeGB", 1)
                    .put("deleteOption", "Delete");
            CvmRequests.dataDisks(body).addObject().put("lun", 1).put("createOption", "Empty").put("diskSizeGB", 1);
            createStatus = held.arm("PUT", subscription + VM + V, body.toString(), 201).headers()
                    .firstValue("Azure-AsyncOperation").orElseThrow();
            held.awaitLine(ServerChild.HELD, Duration.ofMinutes(2));
            assertThat(provisioningState(held, subscription)).isEqualTo("Creating");
            assertThat(disks(held, subscription)).as("disk -> managedBy when the create is held").isEqualTo(Map.of(
                    "vm1_OsDisk_1", subscription + VM, "vm1_disk0", ""));
            madeBeforeTheKill = uniqueIds(held, subscription);
            held.kill();
        }

        try (ServerProcess resumed = ServerProcess.start(dataDir, port)) {
            assertThat(awaitDone(resumed, createStatus)).isEqualTo("Succeeded");
            assertThat(provisioningState(resumed, subscription)).isEqualTo("Succeeded");
            JsonNode view = Json.parse(resumed.arm("GET", subscription + VM + "/instanceView" + V, null, 200).body());
            assertThat(view.path("statuses").findValuesAsText("code")).contains("PowerState/running");
            Map<String, String> disks = disks(resumed, subscription);
            String vmId = subscription + VM;
            assertThat(disks).as("disk -> managedBy after the resumed create").hasSize(3)
                    .allSatisfy((name, managedBy) -> assertThat(managedBy).isEqualToIgnoringCase(vmId));
            assertThat(uniqueIds(resumed, subscription)).as("the disks made before the kill are taken over")
                    .containsAllEntriesOf(madeBeforeTheKill);
        }

        String updateStatus;
        try (ServerProcess held = ServerProcess.start(dataDir, port, ServerChild.HOLD_VM_UPDATE)) {
            // as az vm disk attach --new: the VM as GET shows it, one entry more
            ObjectNode body = (ObjectNode) Json.parse(held.arm("GET", subscription + VM + V, null, 200).body());
            CvmRequests.dataDisks(body).addObject().put("lun", 2).put("createOption", "Empty").put("diskSizeGB", 1);
            updateStatus = held.arm("PUT", subscription + VM + V, body.toString(), 200).headers()
                    .firstValue("Azure-AsyncOperation").orElseThrow();
            held.awaitLine(ServerChild.HELD, Duration.ofMinutes(2));
            assertThat(provisioningState(held, subscription)).isEqualTo("Updating");
            assertThat(disks(held, subscription)).as("the new disk is made, not attached, when the update is held")
                    .containsEntry("vm1_disk2", "");
            held.kill();
        }

        try (ServerProcess resumed = ServerProcess.start(dataDir, port)) {
            assertThat(awaitDone(resumed, updateStatus)).isEqualTo("Succeeded");
            assertThat(provisioningState(resumed, subscription)).isEqualTo("Succeeded");
            assertThat(disks(resumed, subscription)).as("disk -> managedBy after the resumed update").hasSize(4)
                    .allSatisfy((name, managedBy) -> assertThat(managedBy).isEqualToIgnoringCase(subscription + VM));
            JsonNode vm = Json.parse(resumed.arm("GET", subscription + VM + V, null, 200).body());
            assertThat(vm.at("/properties/storageProfile/dataDisks").findValuesAsText("name"))
                    .containsExactly("vm1_disk0", "vm1_disk1", "vm1_disk2");
        }

        String deleteStatus;
        try (ServerProcess held = ServerProcess.start(dataDir, port, ServerChild.HOLD_VM_DELETE)) {
            HttpResponse<String> deleted = held.arm("DELETE", subscription + VM + V, null, 202);
            deleteStatus = deleted.headers().firstValue("Azure-AsyncOperation").orElseThrow();
            held.awaitLine(ServerChild.HELD, Duration.ofMinutes(2));
            assertThat(disks(held, subscription)).as("the OS disk is detached when the delete is held")
                    .containsEntry("vm1_OsDisk_1", "");
            held.kill();
        }

        try (ServerProcess resumed = ServerProcess.start(dataDir, port)) {
            assertThat(awaitDone(resumed, deleteStatus)).isEqualTo("Succeeded");
            resumed.arm("GET", subscription + VM + V, null, 404);
            assertThat(disks(resumed, subscription)).as("disk -> managedBy after the resumed delete")
                    .isEqualTo(Map.of("vm1_disk1", "", "vm1_disk2", ""));
        }
    }

    private static String provisioningState(ServerProcess server, String subscription) throws Exception {
        return Json.parse(server.arm("GET", subscription + VM + V, null, 200).body())
                .at("/properties/provisioningState").asText();
    }

    /** The group's disks: name -> the VM managing it ("" when none). */
    private static Map<String, String> disks(ServerProcess server, String subscription) throws Exception {
        return listDisks(server, subscription, "/managedBy");
    }

    private static Map<String, String> uniqueIds(ServerProcess server, String subscription) throws Exception {
        return listDisks(server, subscription, "/properties/uniqueId");
    }

    private static Map<String, String> listDisks(ServerProcess server, String subscription, String field)
            throws Exception {
        Map<String, String> byName = new TreeMap<>();
        for (JsonNode disk : Json.parse(server.arm("GET", subscription + DISKS + V, null, 200).body())
                .path("value")) {
            byName.put(disk.path("name").asText(), disk.at(field).asText(""));
        }
        return byName;
    }

    private static String awaitDone(ServerProcess server, String statusUrl) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        String status;
        do {
            status = Json.parse(server.send("GET", URI.create(statusUrl), null, 200).body()).path("status").asText();
            if (!status.equals("InProgress")) {
                return status;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        return status;
    }
}
