package io.coffre.store;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A test's child JVM that prints a line per acknowledged write and is SIGKILLed (no shutdown hooks) mid-work. */
final class KilledChild {
    private KilledChild() {
    }

    /**
     * Starts {@code main} with {@code args} on this test's class path, waits until it printed {@code lines} lines,
     * waits {@code delayMillis} more and kills it; returns every line it printed. Its standard error goes to
     * {@code errors}, quoted when it exits on its own.
     */
    static List<String> runAndKill(Class<?> main, List<String> args, int lines, int delayMillis, Path errors)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(args);
        Process child = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(errors.toFile()))
                .start();
        BlockingQueue<String> printed = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                    printed.add(line);
                }
            } catch (IOException e) {
                // the pipe closes when the child dies
            }
        });
        reader.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (printed.size() < lines && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            if (!child.isAlive()) {
                throw new AssertionError(main.getSimpleName() + " exited early (" + child.exitValue() + "): "
                        + Files.readString(errors));
            }
            Thread.sleep(delayMillis);
        } finally {
            child.destroyForcibly();
            child.waitFor(10, TimeUnit.SECONDS);
        }
        reader.join(10_000);
        return new ArrayList<>(printed);
    }
}
