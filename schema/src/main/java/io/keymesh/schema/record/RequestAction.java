package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum RequestAction {
    @JsonProperty("rotate") ROTATE,
    @JsonProperty("revoke") REVOKE,
    @JsonProperty("reprovision") REPROVISION
}
