package io.keymesh.runtime;

import java.util.concurrent.ThreadFactory;

/** Named daemon threads, so a thread dump says what each thread is and none holds the JVM open. */
public final class DaemonThreads {
    private DaemonThreads() {
    }

    public static ThreadFactory named(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
