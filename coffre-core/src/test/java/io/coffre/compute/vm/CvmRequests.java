package io.coffre.compute.vm;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.coffre.json.Json;

/** Request bodies of confidential VMs for the tests of every module: a v6 size in UAE North, secure boot, vTPM. */
public final class CvmRequests {
    private CvmRequests() {
    }

    /**
     * A confidential VM whose OS disk (DiskWithVMGuestState, platform key) has {@code osDiskGb} GiB, or the default
     * size when null; data disks go into {@link #dataDisks}.
     */
    public static ObjectNode confidentialVm(Integer osDiskGb) {
        ObjectNode body = Json.object().put("location", "uaenorth");
        ObjectNode p = body.putObject("properties");
        p.putObject("hardwareProfile").put("vmSize", "Standard_DC2as_v6");
        p.putObject("securityProfile").put("securityType", "ConfidentialVM").putObject("uefiSettings")
                .put("secureBootEnabled", true).put("vTpmEnabled", true);
        ObjectNode os = p.putObject("storageProfile").putObject("osDisk").put("createOption", "FromImage");
        if (osDiskGb != null) {
            os.put("diskSizeGB", osDiskGb);
        }
        os.putObject("managedDisk").putObject("securityProfile").put("securityEncryptionType", "DiskWithVMGuestState");
        return body;
    }

    /** The body's list of data disks, made on first use. */
    public static ArrayNode dataDisks(ObjectNode body) {
        ObjectNode storage = (ObjectNode) body.path("properties").path("storageProfile");
        return storage.has("dataDisks") ? (ArrayNode) storage.get("dataDisks") : storage.putArray("dataDisks");
    }
}
