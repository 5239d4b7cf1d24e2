package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeRecord;
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
            for (KeyValue kv : context.list(layout.directory(KeyLayout.Kind.NODE))) {
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
            out.println("daemons up:     " + context.list(layout.directory(KeyLayout.Kind.STATUS)).size());
            out.flush();
            return 0;
        }
    }
}
