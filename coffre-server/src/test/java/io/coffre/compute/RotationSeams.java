package io.coffre.compute;

/** Reaches the rotation's crash seam from a server started by a test in its own process. */
public final class RotationSeams {
    private RotationSeams() {
    }

    /**
     * Makes every rotation, once its new wrapping is stored and before any copy is updated, call {@code reached} and
     * then wait until the process is killed: the test kills it there, mid-rotation, as a crash would.
     */
    public static void holdAfterWrap(Runnable reached) {
        DesRotations.afterWrap = untilKilled(reached);
    }

    /** A seam that calls {@code reached} and then waits for the kill. */
    public static Runnable untilKilled(Runnable reached) {
        return () -> {
            reached.run();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while held at a crash seam", e);
            }
        };
    }
}
