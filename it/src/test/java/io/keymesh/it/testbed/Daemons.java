package io.keymesh.it.testbed;

/** Daemon threads for the testbed's little network tools. */
final class Daemons {
    private Daemons() {
    }

    static Thread start(Runnable body) {
        Thread thread = new Thread(body);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
