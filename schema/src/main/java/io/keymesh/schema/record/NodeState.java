package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum NodeState {
    @JsonProperty("active") ACTIVE,
    @JsonProperty("revoked") REVOKED
}
