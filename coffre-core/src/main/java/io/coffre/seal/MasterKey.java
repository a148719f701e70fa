package io.coffre.seal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.spec.SecretKeySpec;

/**
 * The 256-bit AES key that seals security domains and signing keys. It can live outside the data directory (a file
 * given on the command line, or {@value #ENVIRONMENT_VARIABLE}); a key file that group or others may read or write is
 * refused, because anyone who reads it reads every key Coffre holds.
 */
public final class MasterKey {
    public static final String ENVIRONMENT_VARIABLE = "COFFRE_MASTER_KEY";
    static final String DEFAULT_FILE_NAME = "master.key";
    private static final int KEY_BYTES = 32;
    private static final Set<PosixFilePermission> SHARED = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private final Sealer sealer;

    private MasterKey(byte[] key) {
        this.sealer = new Sealer(new SecretKeySpec(key, "AES"));
        Arrays.fill(key, (byte) 0);
    }

    /**
     * Reads a key file holding 32 raw bytes or their base64 text.
     *
     * @throws IllegalStateException if the file is missing, unreadable, shared with group or others, or malformed
     */
    public static MasterKey load(Path file) {
        refuseSharedFile(file);
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("The master key file " + file + " does not exist. Create one with "
                    + "`(umask 077; openssl rand -base64 32 > " + file + ")` or omit the option to let Coffre "
                    + "generate one in its data directory.", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the master key file " + file, e);
        }
        try {
            return new MasterKey(parse(content, "the master key file " + file));
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /** The key given as base64 text in {@value #ENVIRONMENT_VARIABLE}. */
    public static MasterKey fromEnvironment(String base64) {
        if (base64 == null || base64.isBlank()) {
            throw new IllegalStateException(ENVIRONMENT_VARIABLE + " is empty; set it to the base64 of 32 random "
                    + "bytes, e.g. `openssl rand -base64 32`.");
        }
        return new MasterKey(parse(base64.getBytes(StandardCharsets.US_ASCII), ENVIRONMENT_VARIABLE));
    }

    /**
     * Writes a new random key as base64 text to a file created with mode 0600 (created with those permissions, so it
     * is never readable by others, not even for an instant).
     *
     * @throws IllegalStateException if the file already exists (a key is never overwritten)
     */
    public static MasterKey generate(Path file) {
        byte[] key = Sealer.newKey().getEncoded();
        byte[] text = (Base64.getEncoder().encodeToString(key) + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE), ownerOnly(file))) {
                ByteBuffer buffer = ByteBuffer.wrap(text);
                while (buffer.hasRemaining()) {
                    channel.write(buffer);
                }
                channel.force(true);
            }
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("The master key file " + file + " already exists; Coffre never "
                    + "overwrites a master key.", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the master key file " + file, e);
        } finally {
            Arrays.fill(text, (byte) 0);
        }
        return new MasterKey(key);
    }

    /**
     * The key Coffre runs with: the given file if any; else {@value #ENVIRONMENT_VARIABLE}; else
     * {@code {dataDir}/master.key}, generated on first start.
     */
    public static MasterKey resolve(Path fileOrNull, Path dataDir) {
        return resolve(fileOrNull, dataDir, System::getenv);
    }

    static MasterKey resolve(Path fileOrNull, Path dataDir, Function<String, String> environment) {
        if (fileOrNull != null) {
            return load(fileOrNull);
        }
        String fromEnvironment = environment.apply(ENVIRONMENT_VARIABLE);
        if (fromEnvironment != null && !fromEnvironment.isBlank()) {
            return fromEnvironment(fromEnvironment);
        }
        Path file = dataDir.resolve(DEFAULT_FILE_NAME);
        if (Files.exists(file)) {
            return load(file);
        }
        try {
            return generate(file);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof FileAlreadyExistsException) {
                return load(file); // another node sharing the data directory generated it first
            }
            throw e;
        }
    }

    public Sealer sealer() {
        return sealer;
    }

    @Override
    public String toString() {
        return "MasterKey[AES-256]";
    }

    private static void refuseSharedFile(Path file) {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null || !Files.exists(file)) {
            return; // no POSIX permissions to check here (or no file: load reports that)
        }
        Set<PosixFilePermission> permissions;
        try {
            permissions = view.readAttributes().permissions();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the permissions of the master key file " + file, e);
        }
        if (permissions.stream().anyMatch(SHARED::contains)) {
            throw new IllegalStateException("The master key file " + file + " is readable or writable by group or "
                    + "others (mode " + PosixFilePermissions.toString(permissions) + "). Restrict it with `chmod 600 "
                    + file + "` and start again.");
        }
    }

    private static FileAttribute<?>[] ownerOnly(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (Files.getFileAttributeView(parent, PosixFileAttributeView.class) == null) {
            return new FileAttribute<?>[0];
        }
        return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(
                EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE))};
    }

    /** 32 raw bytes, or base64 (standard or url-safe, padded or not) of 32 bytes, surrounding whitespace ignored. */
    private static byte[] parse(byte[] content, String source) {
        if (content.length == KEY_BYTES) {
            return content.clone();
        }
        String text = new String(content, StandardCharsets.US_ASCII).strip();
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.replace('-', '+').replace('_', '/'));
        } catch (IllegalArgumentException e) {
            key = null;
        }
        if (key == null || key.length != KEY_BYTES) {
            throw new IllegalStateException(source + " must hold 32 raw bytes or their base64 text (44 characters), "
                    + "e.g. from `openssl rand -base64 32`.");
        }
        return key;
    }
}
