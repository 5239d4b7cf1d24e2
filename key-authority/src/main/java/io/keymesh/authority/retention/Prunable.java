package io.keymesh.authority.retention;

import java.util.List;

/** The finished values of each kind that retention applies to, as the leader's copy of the mesh holds them. */
public record Prunable(List<Finished> audit, List<Finished> requests, List<Finished> enrollments) {
    public Prunable {
        audit = List.copyOf(audit);
        requests = List.copyOf(requests);
        enrollments = List.copyOf(enrollments);
    }

    public int size() {
        return audit.size() + requests.size() + enrollments.size();
    }
}
