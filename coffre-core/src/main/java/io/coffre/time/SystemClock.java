package io.coffre.time;

import java.time.Instant;

final class SystemClock implements CoffreClock {
    @Override
    public Instant now() {
        return Instant.now();
    }

    @Override
    public void onAdvance(Runnable listener) {
        // The system clock never jumps on request; periodic schedulers cover it.
    }
}
