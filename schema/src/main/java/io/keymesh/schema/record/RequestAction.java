package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum RequestAction {
    @JsonProperty("rotate") ROTATE,
    @JsonProperty("revoke") REVOKE,
    @JsonProperty("reprovision") REPROVISION,
    /** A rolling rotation's own progress record, written by the CLI; the authority leaves it alone. */
    @JsonProperty("rollout") ROLLOUT
}
