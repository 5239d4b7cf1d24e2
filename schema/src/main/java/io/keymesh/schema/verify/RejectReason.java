package io.keymesh.schema.verify;

/** Why a value was refused; the {@link #code()} is what logs, metrics and audit events carry. */
public enum RejectReason {
    MALFORMED("malformed"),
    OVERSIZED("oversized"),
    UNKNOWN_SIGNING_KEY("unknown-signing-key"),
    BAD_SIGNATURE("bad-signature"),
    WRONG_KEY_PATH("wrong-key-path"),
    WRONG_MESH("wrong-mesh"),
    EPOCH_ROLLBACK("epoch-rollback"),
    EQUIVOCATION("equivocation"),
    /** A signed value vanished: only a newer signed record may replace one, a deletion is nobody's statement. */
    UNSIGNED_DELETE("unsigned-delete");

    private final String code;

    RejectReason(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
