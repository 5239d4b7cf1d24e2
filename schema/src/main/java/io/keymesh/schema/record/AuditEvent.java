package io.keymesh.schema.record;

import java.time.Instant;

/**
 * One line of the authority's audit log at {@code audit/<id>}; ids sort by time.
 *
 * @param reason why a request was rejected (a stable word such as {@code bad-signature}); null otherwise
 * @param detail human-readable detail, bounded
 */
public record AuditEvent(
        String id,
        Instant at,
        AuditEventType event,
        String node,
        long epoch,
        String reason,
        String detail) {

    public AuditEvent {
        Ids.require(id, "audit id");
        Fields.present(at, "at");
        Fields.present(event, "event");
        if (node != null) {
            NodeName.require(node);
        }
        Fields.atLeast(epoch, 0, "epoch");
        Fields.text(reason, 64, "reason");
        Fields.text(detail, 512, "detail");
    }
}
