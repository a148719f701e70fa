package io.coffre.seal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Set;
import javax.crypto.spec.SecretKeySpec;

/** The root key: seals security domains and signing keys. Lives outside the database. */
public final class MasterKey {
    private final byte[] key;

    private MasterKey(byte[] key) {
        if (key.length != 32) {
            throw new IllegalStateException("a master key is 32 bytes (256 bits); got " + key.length);
        }
        this.key = key;
    }

    public static MasterKey resolve(Path fileOrNull, Path dataDir) {
        if (fileOrNull != null) {
            return load(fileOrNull);
        }
        String env = System.getenv("COFFRE_MASTER_KEY");
        if (env != null && !env.isBlank()) {
            return fromEnvironment(env);
        }
        Path file = dataDir.resolve("master.key");
        return Files.exists(file) ? load(file) : generate(file);
    }

    public static MasterKey load(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
                    throw new IllegalStateException("master key file " + file + " is accessible by group or others ("
                            + PosixFilePermissions.toString(perms) + "); run `chmod 600 " + file + "` first");
                }
            }
            byte[] raw = Files.readAllBytes(file);
            return new MasterKey(raw.length == 32 ? raw : Base64.getDecoder().decode(new String(raw).trim()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read master key file " + file, e);
        }
    }

    public static MasterKey fromEnvironment(String base64) {
        return new MasterKey(Base64.getDecoder().decode(base64.trim()));
    }

    public static MasterKey generate(Path file) {
        byte[] raw = Sealer.newKey().getEncoded();
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(file, Base64.getEncoder().encode(raw));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write master key file " + file, e);
        }
        return new MasterKey(raw);
    }

    public Sealer sealer() {
        return new Sealer(new SecretKeySpec(key, "AES"));
    }
}
