package io.keymesh.schema.verify;

/** A value refused by verification: a reason code for metrics and a detail line for the log. */
public final class RejectedValueException extends Exception {
    private final RejectReason reason;

    public RejectedValueException(RejectReason reason, String detail) {
        super(reason.code() + ": " + printable(detail), null, false, false);
        this.reason = reason;
    }

    /**
     * The detail quotes values from etcd, which anyone with write access controls: control
     * characters (a newline that would forge a log line) become '?', and the length is bounded.
     */
    static String printable(String detail) {
        String text = detail == null ? "" : detail;
        if (text.length() > 300) {
            text = text.substring(0, 300) + "...";
        }
        return text.replaceAll("\\p{Cntrl}", "?");
    }

    public RejectReason reason() {
        return reason;
    }
}
