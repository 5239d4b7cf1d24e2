package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonProperty;

public enum AuditEventType {
    @JsonProperty("admitted") ADMITTED,
    @JsonProperty("rotated") ROTATED,
    @JsonProperty("revoked") REVOKED,
    @JsonProperty("reprovisioned") REPROVISIONED,
    @JsonProperty("rejected") REJECTED
}
