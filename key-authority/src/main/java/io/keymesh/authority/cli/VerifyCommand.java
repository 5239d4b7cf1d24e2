package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.authority.verify.MeshAudit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Check every value under the prefix against the trusted authority keys and the path and epoch rules. "
                + "Exit 0 only when all are good; each bad key is named.")
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        try (Context context = Context.of(spec)) {
            MeshAudit audit = new MeshAudit(context.layout, context.trusted(), context.mesh);
            List<KeyValue> all = context.list(context.layout.root());
            List<MeshAudit.Finding> findings = audit.check(all.stream()
                    .map(kv -> new MeshAudit.Entry(EtcdBytes.text(kv.getKey()), kv.getValue().getBytes()))
                    .toList());
            var out = spec.commandLine().getOut();
            findings.forEach(f -> out.println("BAD " + f.key() + ": " + f.problem()));
            out.println(findings.isEmpty()
                    ? "all " + all.size() + " values under " + context.layout.root() + " are good"
                    : findings.size() + " of " + all.size() + " values under " + context.layout.root() + " are bad");
            out.flush();
            return findings.isEmpty() ? 0 : 1;
        }
    }
}
