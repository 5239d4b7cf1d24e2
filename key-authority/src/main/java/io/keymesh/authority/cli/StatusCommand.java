package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeStatus;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true, description = "Show the leader and a summary of the mesh.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try (Context context = Context.of(spec)) {
            KeyLayout layout = context.layout;
            List<KeyValue> candidates = context.list(layout.election() + "/");
            String leader = candidates.stream()
                    .min((a, b) -> Long.compare(a.getCreateRevision(), b.getCreateRevision()))
                    .map(kv -> EtcdBytes.text(kv.getValue()) + " (since revision " + kv.getCreateRevision() + ")")
                    .orElse("none: no keymesh-authority is running");
            long active = 0;
            long revoked = 0;
            long invalid = 0;
            long meshRevision = context.list(layout.config()).stream().mapToLong(KeyValue::getModRevision).max().orElse(0);
            for (KeyValue kv : context.list(layout.directory(KeyLayout.Kind.NODE))) {
                meshRevision = Math.max(meshRevision, kv.getModRevision());
                try {
                    if (Json.parse(kv.getValue().getBytes(), NodeRecord.class).isActive()) {
                        active++;
                    } else {
                        revoked++;
                    }
                } catch (MalformedValueException e) {
                    invalid++;
                }
            }
            var out = spec.commandLine().getOut();
            out.println("etcd prefix:    " + layout.prefix());
            out.println("leader:         " + leader);
            out.println("replicas:       " + candidates.size());
            out.println("nodes:          " + active + " active, " + revoked + " revoked" + (invalid > 0 ? ", " + invalid + " unreadable" : ""));
            out.println("join tokens:    " + context.list(layout.directory(KeyLayout.Kind.TOKEN)).size());
            List<KeyValue> statuses = context.list(layout.directory(KeyLayout.Kind.STATUS));
            out.println("daemons up:     " + statuses.size());
            out.println("behind:         " + behind(statuses.stream().map(kv -> kv.getValue().getBytes()).toList(), meshRevision));
            out.flush();
            return 0;
        }
    }

    /**
     * The daemons whose last report says they have not applied the newest node record or mesh
     * config yet (for a moment after every change; for long, a daemon that cannot follow etcd).
     */
    static String behind(List<byte[]> reports, long meshRevision) {
        List<NodeStatus> lagging = new java.util.ArrayList<>();
        for (byte[] report : reports) {
            try {
                NodeStatus status = Json.parse(report, NodeStatus.class);
                if (status.appliedRevision() < meshRevision) {
                    lagging.add(status);
                }
            } catch (MalformedValueException e) {
                // an unreadable report says nothing about lag; 'keymesh verify' reports it
            }
        }
        if (lagging.isEmpty()) {
            return "none (every daemon up has applied revision " + meshRevision + ", the newest node record or config)";
        }
        lagging.sort(java.util.Comparator.comparingLong(NodeStatus::appliedRevision).thenComparing(NodeStatus::node));
        String shown = String.join(", ", lagging.stream().limit(10).map(st -> st.node() + " at " + st.appliedRevision()).toList());
        return lagging.size() + " daemon(s) have not applied revision " + meshRevision + ": " + shown
                + (lagging.size() > 10 ? ", ..." : "");
    }
}
