package io.coffre.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** Run in a fresh JVM by {@link HostsFileTest}: installs a hosts file before or after the first name lookup. */
public final class HostsFileProbe {
    private HostsFileProbe() {
    }

    public static void main(String[] args) {
        if (args[0].equals("lookup-first")) {
            resolve("localhost");
        }
        HostsFile.install("127.0.0.1", List.of("kv1.vault.probe.invalid"));
        System.out.println("kv1.vault.probe.invalid=" + resolve("kv1.vault.probe.invalid"));
        System.out.println("other.probe.invalid=" + resolve("other.probe.invalid"));
    }

    private static String resolve(String name) {
        try {
            return InetAddress.getByName(name).getHostAddress();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
