package io.coffre.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WalkthroughTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();
    private final List<String> ran = new ArrayList<>();

    private int run(Walkthrough walk) {
        return walk.run(new PrintWriter(out), new PrintWriter(err));
    }

    @Test
    void printsEachStepWithItsDetails() {
        int code = run(new Walkthrough()
                .step("first", () -> "details 1")
                .step("second", () -> ""));
        assertThat(code).isZero();
        assertThat(out.toString()).isEqualTo("[1] first ... ok (details 1)\n[2] second ... ok\n");
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void stopsAtTheFirstFailureWithTheServersError() {
        int code = run(new Walkthrough()
                .step("create", () -> {
                    ran.add("create");
                    return "x";
                })
                .step("use", () -> {
                    throw new ServerError(403, "Forbidden", "Caller lacks keys/wrap/action.");
                })
                .step("never", () -> {
                    ran.add("never");
                    return "";
                }));
        assertThat(code).isEqualTo(1);
        assertThat(ran).containsExactly("create");
        assertThat(out.toString()).isEqualTo("[1] create ... ok (x)\n[2] use ... FAILED\n");
        assertThat(err.toString()).isEqualTo("ERROR: (Forbidden) Caller lacks keys/wrap/action.\n");
    }

    @Test
    void aFailedCheckFailsItsStep() {
        int code = run(new Walkthrough().step("compare", () -> {
            Walkthrough.check(1 + 1 == 3, "arithmetic is off");
            return "";
        }));
        assertThat(code).isEqualTo(1);
        assertThat(err.toString()).isEqualTo("ERROR: arithmetic is off\n");
    }

    @Test
    void theQuickstartWalksTheKeyServiceAndPlatformFlowsInOrder() {
        List<String> titles = QuickstartSteps.walkthrough(null).steps().stream().map(Walkthrough.Step::title).toList();
        assertThat(titles).hasSize(32);
        assertThat(String.join("\n", titles)).containsSubsequence("RestorePointSupportForConfidentialVMV2",
                "resource group", "premium key vault",
                "managed HSM", "RSA-HSM 3072", "custom role", "Backup Management Service", "RSA-OAEP-256", "sign",
                "rotate", "rotation policy", "back up", "delete and purge", "restore", "attestation token", "release",
                "purge protection", "disk encryption set", "Encryption User", "Confidential VM Orchestrator",
                "vm list-sizes", "confidential VM", "NBD",
                "restore point", "overwrite", "rotate", "disable", "restore disks", "stop and start", "attach the restored",
                "audit log");
    }
}
