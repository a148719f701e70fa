package io.coffre.compute.vm;

import io.coffre.compute.disk.DiskStore;
import io.coffre.compute.nbd.ExportRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The NBD exports of running VMs: {@code {resourceGroup}/{vmName}/os} and {@code {resourceGroup}/{vmName}/lun{N}}
 * (names as in the VM's resource id, compared exactly). Each connection gets its own {@link DiskStore#open} handle;
 * the handles of one disk share its write-back buffer, and closing one flushes without ending the others, as the
 * {@link ExportRegistry} contract asks.
 */
final class VmExports implements ExportRegistry {
    private final DiskStore store;
    /** export name → disk store id; guarded by itself so a stop never races an open of the same export */
    private final Map<String, String> exports = new HashMap<>();

    VmExports(DiskStore store) {
        this.store = store;
    }

    static String prefix(String resourceGroup, String vmName) {
        return resourceGroup + "/" + vmName + "/";
    }

    static String osExport(String resourceGroup, String vmName) {
        return prefix(resourceGroup, vmName) + "os";
    }

    static String dataExport(String resourceGroup, String vmName, int lun) {
        return prefix(resourceGroup, vmName) + "lun" + lun;
    }

    void add(Map<String, String> byName) {
        synchronized (exports) {
            exports.putAll(byName);
        }
    }

    /** Removes a VM's exports and returns their names (to disconnect). */
    List<String> remove(String prefix) {
        synchronized (exports) {
            List<String> names = new ArrayList<>(exports.keySet().stream().filter(n -> n.startsWith(prefix)).toList());
            names.forEach(exports::remove);
            return names;
        }
    }

    void removeExactly(String name) {
        synchronized (exports) {
            exports.remove(name);
        }
    }

    @Override
    public Optional<Export> open(String exportName) {
        synchronized (exports) {
            String storeId = exports.get(exportName);
            return storeId == null ? Optional.empty() : Optional.of(new Export(store.open(storeId), false));
        }
    }

    @Override
    public List<String> list() {
        synchronized (exports) {
            return exports.keySet().stream().sorted().toList();
        }
    }
}
