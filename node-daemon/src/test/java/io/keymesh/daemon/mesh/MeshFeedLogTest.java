package io.keymesh.daemon.mesh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.verify.RejectReason;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshFeedLogTest {
    @Test
    void twoThousandJunkValuesCostElevenLinesAndEveryAlarmItsOwn() {
        List<Refusal> refusals = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            refusals.add(new Refusal("/keymesh/v1/nodes/junk-" + i, i % 4 == 0 ? RejectReason.BAD_SIGNATURE : RejectReason.MALFORMED, "x"));
        }
        refusals.add(new Refusal("/keymesh/v1/nodes/a", RejectReason.EQUIVOCATION, "serial 3 signed twice"));
        refusals.add(new Refusal("/keymesh/v1/nodes/b", RejectReason.EQUIVOCATION, "serial 4 signed twice"));

        List<MeshFeed.LogLine> lines = MeshFeed.logLines(refusals);

        assertEquals(10 + 2 + 1, lines.size());
        assertEquals(2, lines.stream().filter(MeshFeed.LogLine::alarm).count());
        assertTrue(lines.get(0).text().startsWith("refused /keymesh/v1/nodes/junk-0: "), lines.get(0).text());
        String summary = lines.get(lines.size() - 1).text();
        assertTrue(summary.startsWith("refused 1990 more values {bad-signature=497, malformed=1493}"), summary);
    }

    @Test
    void aFewRefusalsGetALineEachAndNoSummary() {
        List<MeshFeed.LogLine> lines = MeshFeed.logLines(List.of(new Refusal("/keymesh/v1/nodes/x", RejectReason.WRONG_MESH, "other")));
        assertEquals(List.of(new MeshFeed.LogLine(false, "refused /keymesh/v1/nodes/x: other")), lines);
    }
}
