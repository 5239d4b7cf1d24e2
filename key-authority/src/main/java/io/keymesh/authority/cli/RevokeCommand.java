package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.NodeName;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = "Revoke a node: peers drop it, its address is released, its identity can never enroll again.")
final class RevokeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE")
    String node;

    @Option(names = "--timeout", defaultValue = "30s", converter = Durations.class,
            description = "how long to wait for the authority's answer (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Override
    public Integer call() throws InterruptedException {
        NodeName.require(node);
        try (Context context = Context.of(spec)) {
            Instant now = Instant.now();
            String id = "revoke-" + node + "-" + now.toEpochMilli();
            OperatorRequest request = OperatorRequest.pending(id, RequestAction.REVOKE, node, null, now);
            String key = context.layout.request(id);
            context.await(context.client().getKVClient().txn()
                    .If(new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(EtcdBytes.key(key), EtcdBytes.value(Json.toLine(Json.toTree(request))), PutOption.DEFAULT))
                    .commit());
            var err = spec.commandLine().getErr();
            err.print("request " + id + " written; waiting for the authority");
            err.flush();
            long deadline = System.nanoTime() + timeout.toNanos();
            long nextDot = System.nanoTime();
            while (System.nanoTime() < deadline) {
                List<KeyValue> kvs = context.await(context.client().getKVClient().get(EtcdBytes.key(key))).getKvs();
                if (!kvs.isEmpty()) {
                    OperatorRequest answer = Json.parse(kvs.get(0).getValue().getBytes(), OperatorRequest.class);
                    if (answer.status() != RequestStatus.PENDING) {
                        err.println();
                        err.flush();
                        if (answer.status() == RequestStatus.DONE) {
                            spec.commandLine().getOut().println("revoked " + node + " (commit revision " + kvs.get(0).getModRevision() + ")");
                            spec.commandLine().getOut().flush();
                            return 0;
                        }
                        throw new IllegalStateException("revoke of " + node + " refused: " + answer.reason());
                    }
                }
                if (System.nanoTime() >= nextDot) {
                    err.print('.');
                    err.flush();
                    nextDot = System.nanoTime() + Duration.ofSeconds(1).toNanos();
                }
                Thread.sleep(100);
            }
            err.println();
            throw new IllegalStateException("no answer within " + timeout.toSeconds() + " s: is a keymesh-authority running? "
                    + "The request stays in " + key + " and is carried out when a leader sees it.");
        }
    }
}
