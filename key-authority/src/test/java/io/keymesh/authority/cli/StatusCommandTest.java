package io.keymesh.authority.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.NodeStatus;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusCommandTest {
    private static byte[] report(String node, long applied) {
        return Json.toLine(Json.toTree(new NodeStatus(node, 1, "0.1.0", applied, 3, 3, Instant.parse("2026-12-07T00:00:00Z"))));
    }

    @Test
    void daemonsBehindTheNewestRecordAreNamedMostBehindFirst() {
        List<byte[]> reports = List.of(report("a", 120), report("b", 95), report("c", 100), report("d", 130),
                "{junk".getBytes(StandardCharsets.UTF_8));
        assertEquals("2 daemon(s) have not applied revision 120: b at 95, c at 100", StatusCommand.behind(reports, 120));
    }

    @Test
    void noneBehindSaysSoAndALongListIsCut() {
        assertEquals("none (every daemon up has applied revision 7, the newest node record or config)",
                StatusCommand.behind(List.of(report("a", 7)), 7));
        List<byte[]> many = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            many.add(report(String.format("n%02d", i), 5));
        }
        String line = StatusCommand.behind(many, 6);
        assertEquals(true, line.startsWith("12 daemon(s) have not applied revision 6: n00 at 5, ") && line.endsWith("n09 at 5, ..."), line);
    }
}
