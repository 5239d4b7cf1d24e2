package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum EnrollmentKind {
    /** First admission of an identity, proven by a join token. */
    @JsonProperty("join") JOIN,
    /** A node already admitted asks for its next WireGuard key to be recorded. */
    @JsonProperty("rotate") ROTATE
}
