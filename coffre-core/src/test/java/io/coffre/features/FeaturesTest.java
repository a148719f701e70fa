package io.coffre.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.coffre.CoffreCore;
import io.coffre.TestCores;
import io.coffre.arm.ArmException;
import io.coffre.authorization.BuiltInRoles;
import io.coffre.features.Features.Feature;
import io.coffre.features.Features.State;
import io.coffre.identity.Principal;
import io.coffre.time.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeaturesTest {
    private static final String COMPUTE = "Microsoft.Compute";
    private static final String CVM_RESTORE_POINTS = "RestorePointSupportForConfidentialVMV2";

    @TempDir
    Path dir;
    private CoffreCore core;
    private Features features;
    private ManualClock clock;
    private Principal admin;
    private String sub;

    @BeforeEach
    void open() {
        core = TestCores.open(dir);
        features = core.features();
        clock = (ManualClock) core.clock();
        admin = core.identity().admin();
        sub = core.identity().defaultSubscriptionId();
    }

    @AfterEach
    void close() {
        core.close();
    }

    private State state(String namespace, String name) {
        return features.get(admin, sub, namespace, name).state();
    }

    @Test
    void theConfidentialRestorePointFeatureIsApprovedAtOnce() {
        Feature before = features.get(admin, sub, COMPUTE, CVM_RESTORE_POINTS);
        assertThat(before.state()).isEqualTo(State.NotRegistered);
        assertThat(before.id()).isEqualTo("/subscriptions/" + sub
                + "/providers/Microsoft.Features/providers/Microsoft.Compute/features/" + CVM_RESTORE_POINTS);
        assertThat(before.fullName()).isEqualTo("Microsoft.Compute/" + CVM_RESTORE_POINTS);
        assertThat(features.isRegistered(sub, COMPUTE, CVM_RESTORE_POINTS)).isFalse();

        Feature registering = features.register(admin, sub, "microsoft.compute", "restorepointsupportforconfidentialvmv2");
        assertThat(registering.state()).as("register answers Registering, as AFEC does").isEqualTo(State.Registering);
        assertThat(registering.name()).as("named as the catalog spells it").isEqualTo(CVM_RESTORE_POINTS);
        // The next read, without the clock moving, finds it approved.
        assertThat(state(COMPUTE, CVM_RESTORE_POINTS)).isEqualTo(State.Registered);
        assertThat(features.isRegistered(sub.toUpperCase(), COMPUTE, CVM_RESTORE_POINTS)).isTrue();
        assertThat(features.register(admin, sub, COMPUTE, CVM_RESTORE_POINTS).state())
                .as("registering again changes nothing").isEqualTo(State.Registered);
    }

    @Test
    void anApprovalDelayRunsOnTheCoffreClockBothWays() {
        Features slow = new JdbcFeatures(core.metadata(), core.resourceManager(), core.accessControl(), clock,
                FeatureCatalog.load("slow-features.json"));
        assertThat(slow.register(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Registering);
        clock.advance(Duration.ofMinutes(4));
        assertThat(slow.get(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Registering);
        assertThat(slow.isRegistered(sub, COMPUTE, "SlowlyApproved")).isFalse();
        clock.advance(Duration.ofMinutes(1));
        assertThat(slow.get(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Registered);
        assertThat(slow.isRegistered(sub, COMPUTE, "SlowlyApproved")).isTrue();

        assertThat(slow.unregister(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Unregistering);
        assertThat(slow.isRegistered(sub, COMPUTE, "SlowlyApproved")).isFalse();
        clock.advance(Duration.ofMinutes(5));
        assertThat(slow.get(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Unregistered);
        assertThat(slow.register(admin, sub, COMPUTE, "SlowlyApproved").state()).isEqualTo(State.Registering);
    }

    @Test
    void aFeatureNeedingApprovalStaysPendingUntilWithdrawn() {
        String gated = "ConfidentialVMDataDiskEncryptionPreview";
        assertThat(features.register(admin, sub, COMPUTE, gated).state()).isEqualTo(State.Pending);
        clock.advance(Duration.ofDays(30));
        assertThat(state(COMPUTE, gated)).isEqualTo(State.Pending);
        assertThat(features.isRegistered(sub, COMPUTE, gated)).isFalse();
        assertThat(features.unregister(admin, sub, COMPUTE, gated).state()).isEqualTo(State.Unregistered);
        assertThat(state(COMPUTE, gated)).isEqualTo(State.Unregistered);
    }

    @Test
    void theCvmV2OptOutIsASubscriptionFlagLikeAnyFeature() {
        String optOut = core.supportMatrix().blockingFeature().name();
        String namespace = core.supportMatrix().blockingFeature().namespace();
        features.register(admin, sub, namespace, optOut);
        assertThat(features.isRegistered(sub, namespace, optOut)).isTrue();
        assertThat(features.unregister(admin, sub, namespace, optOut).state()).isEqualTo(State.Unregistering);
        assertThat(features.isRegistered(sub, namespace, optOut)).as("settled at once").isFalse();
        assertThat(state(namespace, optOut)).isEqualTo(State.Unregistered);
        assertThat(features.unregister(admin, sub, namespace, optOut).state()).isEqualTo(State.Unregistered);
    }

    @Test
    void listsEveryKnownFeatureWithItsStatePerNamespaceOrAll() {
        features.register(admin, sub, COMPUTE, CVM_RESTORE_POINTS);
        assertThat(features.list(admin, sub, "microsoft.compute")).extracting(Feature::name, Feature::state).contains(
                tuple(CVM_RESTORE_POINTS, State.Registered),
                tuple("ConfidentialVMV2OptOut", State.NotRegistered));
        assertThat(features.list(admin, sub, null)).extracting(Feature::fullName)
                .contains("Microsoft.Compute/" + CVM_RESTORE_POINTS).isSorted();
        assertThat(features.list(admin, sub, "Microsoft.Nothing")).isEmpty();
    }

    @Test
    void unknownFeaturesAndSubscriptionsAreNotFound() {
        ArmException unknown = catchThrowableOfType(ArmException.class,
                () -> features.register(admin, sub, COMPUTE, "NoSuchFeature"));
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.code()).isEqualTo("FeatureNotFound");
        assertThat(unknown.getMessage()).isEqualTo("The feature 'NoSuchFeature' could not be found in namespace"
                + " 'Microsoft.Compute'. List the known features with: coffre feature list --namespace"
                + " Microsoft.Compute.");
        assertThat(features.isRegistered(sub, COMPUTE, "NoSuchFeature")).isFalse();
        ArmException noSub = catchThrowableOfType(ArmException.class,
                () -> features.get(admin, UUID.randomUUID().toString(), COMPUTE, CVM_RESTORE_POINTS));
        assertThat(noSub.status()).isEqualTo(404);
        assertThat(noSub.code()).isEqualTo("SubscriptionNotFound");
    }

    @Test
    void registeringNeedsTheRegisterActionAndReadingTheReadAction() {
        Principal app = core.identity().createServicePrincipal("app").principal();
        ArmException denied = catchThrowableOfType(ArmException.class,
                () -> features.get(app, sub, COMPUTE, CVM_RESTORE_POINTS));
        assertThat(denied.status()).isEqualTo(403);
        assertThat(denied.code()).isEqualTo("AuthorizationFailed");
        assertThat(denied.getMessage()).contains("'" + Features.READ_ACTION + "'");

        core.accessControl().grantBySystem("/subscriptions/" + sub, BuiltInRoles.READER, app.objectId());
        assertThat(features.get(app, sub, COMPUTE, CVM_RESTORE_POINTS).state()).isEqualTo(State.NotRegistered);
        assertThat(features.list(app, sub, null)).isNotEmpty();
        ArmException readerRegisters = catchThrowableOfType(ArmException.class,
                () -> features.register(app, sub, COMPUTE, CVM_RESTORE_POINTS));
        assertThat(readerRegisters.status()).isEqualTo(403);
        assertThat(readerRegisters.getMessage()).contains("'" + Features.REGISTER_ACTION + "'");
        assertThat(catchThrowableOfType(ArmException.class,
                () -> features.unregister(app, sub, COMPUTE, CVM_RESTORE_POINTS)).getMessage())
                .contains("'" + Features.UNREGISTER_ACTION + "'");
        assertThat(features.isRegistered(sub, COMPUTE, CVM_RESTORE_POINTS)).as("nothing written").isFalse();

        core.accessControl().grantBySystem("/subscriptions/" + sub, BuiltInRoles.CONTRIBUTOR, app.objectId());
        assertThat(features.register(app, sub, COMPUTE, CVM_RESTORE_POINTS).state()).isEqualTo(State.Registering);
    }
}
