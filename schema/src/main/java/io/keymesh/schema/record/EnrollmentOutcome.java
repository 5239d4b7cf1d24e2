package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum EnrollmentOutcome {
    @JsonProperty("admitted") ADMITTED,
    @JsonProperty("rejected") REJECTED
}
