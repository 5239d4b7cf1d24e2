package io.keymesh.schema.verify;

/** A value refused by verification: a reason code for metrics and a detail line for the log. */
public final class RejectedValueException extends Exception {
    private final RejectReason reason;

    public RejectedValueException(RejectReason reason, String detail) {
        super(reason.code() + ": " + detail, null, false, false);
        this.reason = reason;
    }

    public RejectReason reason() {
        return reason;
    }
}
