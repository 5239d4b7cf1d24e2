package io.keymesh.authority.admission;

/** Why the authority refused a request; {@link #code()} is what results, audit events and metrics carry. */
public enum Rejection {
    OVERSIZED("oversized"),
    MALFORMED("malformed"),
    BAD_SIGNATURE("bad-signature"),
    INVALID_NAME("invalid-name"),
    WRONG_KEY_PATH("wrong-key-path"),
    WRONG_MESH("wrong-mesh"),
    UNKNOWN_TOKEN("unknown-token"),
    EXPIRED_TOKEN("expired-token"),
    SPENT_TOKEN("spent-token"),
    TOKEN_BOUND_TO_OTHER_NODE("token-bound-to-other-node"),
    BAD_TOKEN_PROOF("bad-token-proof"),
    DUPLICATE_KEY("duplicate-key"),
    TOMBSTONED_IDENTITY("tombstoned-identity"),
    NODE_NAME_TAKEN("node-name-taken"),
    ADDRESS_POOL_EXHAUSTED("address-pool-exhausted"),
    UNVERIFIABLE_RECORD("unverifiable-record"),
    UNKNOWN_NODE("unknown-node"),
    ALREADY_REVOKED("already-revoked"),
    NOT_THIS_IDENTITY("not-this-identity"),
    ROTATION_NOT_REQUESTED("rotation-not-requested"),
    STALE_EPOCH("stale-epoch"),
    EXPIRED_REQUEST("expired-request"),
    UNSUPPORTED("unsupported");

    private final String code;

    Rejection(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }
}
