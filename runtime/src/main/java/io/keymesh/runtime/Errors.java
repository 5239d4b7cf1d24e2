package io.keymesh.runtime;

/** Error text for one-line logs and messages. */
public final class Errors {
    private Errors() {
    }

    /**
     * The innermost cause's message (what actually went wrong), or its class name when it has
     * none; a bare timeout (a wait on a future that ran out) as words, not as "TimeoutException".
     */
    public static String rootMessage(Throwable e) {
        Throwable root = rootCause(e);
        if (root.getMessage() == null && root instanceof java.util.concurrent.TimeoutException) {
            return "no answer in time";
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** The innermost cause. */
    public static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }
}
