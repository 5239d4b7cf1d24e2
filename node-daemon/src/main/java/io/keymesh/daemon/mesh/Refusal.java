package io.keymesh.daemon.mesh;

import io.keymesh.schema.verify.RejectReason;

/** A value from etcd the daemon refused, and why; it changed nothing. */
public record Refusal(String key, RejectReason reason, String detail) {
}
