package io.coffre.time;

import java.time.Instant;

/**
 * The one source of "now" for everything time-based (rotation policies, soft-delete retention, schedules),
 * so tests and demos can move time forward instead of waiting.
 */
public interface CoffreClock {
    Instant now();

    /** Called after the clock moves by more than real time would (a manual advance); schedulers re-check at once. */
    void onAdvance(Runnable listener);

    static CoffreClock system() {
        return new SystemClock();
    }
}
