package io.coffre.time;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A clock that follows real time from a movable offset: {@link #advance} jumps it forward, as
 * {@code coffre admin clock advance} does on a server started with {@code --manual-clock}.
 */
public final class ManualClock implements CoffreClock {
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile Duration offset = Duration.ZERO;

    @Override
    public Instant now() {
        return Instant.now().plus(offset);
    }

    public synchronized Instant advance(Duration by) {
        if (by.isNegative()) {
            throw new IllegalArgumentException("a clock only moves forward; got " + by);
        }
        offset = offset.plus(by);
        listeners.forEach(Runnable::run);
        return now();
    }

    @Override
    public void onAdvance(Runnable listener) {
        listeners.add(listener);
    }
}
