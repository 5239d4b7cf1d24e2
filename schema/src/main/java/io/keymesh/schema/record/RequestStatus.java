package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum RequestStatus {
    @JsonProperty("pending") PENDING,
    @JsonProperty("done") DONE,
    @JsonProperty("rejected") REJECTED
}
