package io.keymesh.authority.cli;

import java.io.PrintWriter;

/**
 * Progress of a long operation on stderr: on a terminal one line redrawn in place (a bar and what
 * is happening), otherwise plain lines, one per change of what is happening, for logs and CI.
 */
final class Progress {
    private static final int BAR = 24;
    private final PrintWriter err;
    private final boolean terminal;
    private final int total;
    private String last = "";

    Progress(PrintWriter err, boolean terminal, int total) {
        this.err = err;
        this.terminal = terminal;
        this.total = total;
    }

    static boolean onTerminal() {
        return System.console() != null;
    }

    /** {@code done} of {@code total} finished; {@code what} is the step under way ({@code detail} may change every second). */
    void show(int done, String what, String detail) {
        if (terminal) {
            int filled = total == 0 ? BAR : done * BAR / total;
            String line = "[" + "#".repeat(filled) + ".".repeat(BAR - filled) + "] " + done + "/" + total + " " + what
                    + (detail.isEmpty() ? "" : " (" + detail + ")");
            err.print("\r" + line + " ".repeat(Math.max(0, last.length() - line.length())));
            last = line;
        } else if (!what.equals(last)) {
            err.println(done + "/" + total + " " + what);
            last = what;
        }
        err.flush();
    }

    /** A line that stays (a finished step, a warning), above the redrawn one on a terminal. */
    void line(String text) {
        if (terminal && !last.isEmpty()) {
            err.print("\r" + " ".repeat(last.length()) + "\r");
            last = "";
        }
        err.println(text);
        err.flush();
    }

    void finish() {
        if (terminal && !last.isEmpty()) {
            err.println();
            last = "";
        }
        err.flush();
    }
}
