package io.coffre.seal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MasterKeyTest {
    private static final byte[] CONTEXT = "sd:kv1".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"rw-r--r--", "rw-r-----", "rw--w----", "rw----r--", "rw-----w-"})
    void refusesAFileGroupOrOthersMayReadOrWrite(String mode) throws IOException {
        Path file = keyFile(Base64.getEncoder().encode(new byte[32]), mode);
        assertThatThrownBy(() -> MasterKey.load(file)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("chmod 600 " + file);
    }

    @Test
    void generatedKeyFileIsOwnerOnlyAndLoadsBackToTheSameKey() throws IOException {
        Path file = dir.resolve("sub/master.key");
        MasterKey generated = MasterKey.generate(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(Base64.getDecoder().decode(Files.readString(file).strip())).hasSize(32);
        byte[] sealed = generated.sealer().seal(new byte[] {1, 2, 3}, CONTEXT);
        assertThat(MasterKey.load(file).sealer().open(sealed, CONTEXT)).containsExactly(1, 2, 3);
    }

    @Test
    void neverOverwritesAnExistingKey() throws IOException {
        Path file = dir.resolve("master.key");
        MasterKey.generate(file);
        String before = Files.readString(file);
        assertThatThrownBy(() -> MasterKey.generate(file)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already exists");
        assertThat(Files.readString(file)).isEqualTo(before);
    }

    @Test
    void loadsRawBytesAndBase64Text() throws IOException {
        byte[] key = new byte[32];
        key[0] = 7;
        Path raw = keyFile(key, "rw-------");
        byte[] sealed = MasterKey.load(raw).sealer().seal(new byte[] {9}, CONTEXT);
        Files.delete(raw);
        Path text = keyFile((Base64.getUrlEncoder().withoutPadding().encodeToString(key) + "\n")
                .getBytes(StandardCharsets.US_ASCII), "r--------");
        assertThat(MasterKey.load(text).sealer().open(sealed, CONTEXT)).containsExactly(9);
    }

    @Test
    void malformedOrMissingFilesSayWhatIsExpected() throws IOException {
        Path shortKey = keyFile("c2hvcnQ=".getBytes(StandardCharsets.US_ASCII), "rw-------");
        assertThatThrownBy(() -> MasterKey.load(shortKey)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("32 raw bytes or their base64");
        Path missing = dir.resolve("nope.key");
        assertThatThrownBy(() -> MasterKey.load(missing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("does not exist").hasMessageContaining(missing.toString());
    }

    @Test
    void environmentFormTakesBase64AndNeverEchoesIt() {
        String base64 = Base64.getEncoder().encodeToString(new byte[32]);
        MasterKey key = MasterKey.fromEnvironment(base64);
        byte[] sealed = key.sealer().seal(new byte[] {4}, CONTEXT);
        assertThat(MasterKey.fromEnvironment(base64).sealer().open(sealed, CONTEXT)).containsExactly(4);
        String wrongLength = Base64.getEncoder().encodeToString(new byte[31]);
        assertThatThrownBy(() -> MasterKey.fromEnvironment(wrongLength)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(MasterKey.ENVIRONMENT_VARIABLE).hasMessageNotContaining(wrongLength);
        assertThatThrownBy(() -> MasterKey.fromEnvironment(" ")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void resolvePrefersTheFileThenTheEnvironmentThenTheDataDirectory() throws IOException {
        Path dataDir = dir.resolve("data");
        MasterKey first = MasterKey.resolve(null, dataDir, name -> null);
        assertThat(dataDir.resolve(MasterKey.DEFAULT_FILE_NAME)).exists();
        byte[] sealed = first.sealer().seal(new byte[] {5}, CONTEXT);
        assertThat(MasterKey.resolve(null, dataDir, name -> null).sealer().open(sealed, CONTEXT))
                .as("second start loads the generated key").containsExactly(5);

        byte[] envKey = new byte[32];
        envKey[31] = 1;
        Map<String, String> env = Map.of(MasterKey.ENVIRONMENT_VARIABLE, Base64.getEncoder().encodeToString(envKey));
        byte[] sealedByEnv = MasterKey.fromEnvironment(env.get(MasterKey.ENVIRONMENT_VARIABLE)).sealer()
                .seal(new byte[] {6}, CONTEXT);
        assertThat(MasterKey.resolve(null, dataDir, env::get).sealer().open(sealedByEnv, CONTEXT))
                .as("environment beats the data directory").containsExactly(6);

        Path explicit = dir.resolve("explicit.key");
        MasterKey fromFile = MasterKey.generate(explicit);
        byte[] sealedByFile = fromFile.sealer().seal(new byte[] {7}, CONTEXT);
        assertThat(MasterKey.resolve(explicit, dataDir, env::get).sealer().open(sealedByFile, CONTEXT))
                .as("an explicit file beats the environment").containsExactly(7);
    }

    private Path keyFile(byte[] content, String mode) throws IOException {
        Path file = dir.resolve("master-" + System.nanoTime() + ".key");
        Files.write(file, content);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode));
        return file;
    }
}
