package io.coffre.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.security.Key;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TlsMaterialTest {
    @TempDir
    Path dir;

    /** A server restarted on its data directory must load the identity it generated on first start. */
    @Test
    void aGeneratedIdentityLoadsAgainFromTheDataDirectory() throws Exception {
        ServerConfig config = ServerConfig.defaults(dir);
        TlsMaterial generated = TlsMaterial.loadOrGenerate(config);
        TlsMaterial loaded = TlsMaterial.loadOrGenerate(config);
        assertThat(loaded.certificate()).isEqualTo(generated.certificate());
        char[] password = "p".toCharArray();
        Key before = generated.keyStore(password).getKey(generated.keyStore(password).aliases().nextElement(),
                password);
        Key after = loaded.keyStore(password).getKey(loaded.keyStore(password).aliases().nextElement(), password);
        assertThat(after.getEncoded()).isEqualTo(before.getEncoded());
    }
}
