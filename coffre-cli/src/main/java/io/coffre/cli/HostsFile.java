package io.coffre.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Makes {@code kv1.vault.coffre.localhost} and friends resolve to the server without touching the machine's
 * resolver or {@code /etc/hosts}: a temporary hosts file listing exactly the names this invocation contacts,
 * handed to the JDK through {@code jdk.net.hosts.file}.
 *
 * <p>The JDK picks its name service once, in {@link java.net.InetAddress}'s static initializer, and reads the
 * property only then. So {@link #install} must run before anything in the process resolves a name or parses an
 * address through {@code InetAddress} (the HTTP client, a server socket, some logging setups); afterwards setting
 * the property has no effect. When the property is already set (tests, or a user who wants their own file), that
 * file is used as it is.
 */
final class HostsFile {
    static final String PROPERTY = "jdk.net.hosts.file";

    private HostsFile() {
    }

    /** One line: the address, then every name (localhost last, because the file replaces the system lookup). */
    static String content(String address, Collection<String> names) {
        Set<String> all = new LinkedHashSet<>();
        names.forEach(n -> all.add(n.toLowerCase(java.util.Locale.ROOT)));
        all.remove("localhost");
        all.add("localhost");
        return "# Written by coffre for one invocation (jdk.net.hosts.file); safe to delete.\n"
                + address + " " + String.join(" ", all) + "\n";
    }

    /** @return the hosts file the JDK will use */
    static Path install(String address, Collection<String> names) {
        String existing = System.getProperty(PROPERTY);
        if (existing != null) {
            return Path.of(existing);
        }
        try {
            Path file = Files.createTempFile("coffre-hosts", ".txt");
            file.toFile().deleteOnExit();
            Files.writeString(file, content(address, names), StandardCharsets.UTF_8);
            System.setProperty(PROPERTY, file.toString());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a temporary hosts file", e);
        }
    }
}
