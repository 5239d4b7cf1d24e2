package io.keymesh.authority.cli;

import io.keymesh.schema.record.NodeName;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import java.time.Duration;
import java.time.Instant;
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
            if (!OperatorRequests.create(context, OperatorRequest.pending(id, RequestAction.REVOKE, node, null, now))) {
                throw new IllegalStateException("request " + id + " exists already; run the command again");
            }
            var err = spec.commandLine().getErr();
            err.print("request " + id + " written; waiting for the authority");
            err.flush();
            var answer = OperatorRequests.awaitAnswer(context, id, timeout, waited -> {
                err.print('.');
                err.flush();
            });
            err.println();
            err.flush();
            if (answer.isEmpty()) {
                throw new IllegalStateException("no answer within " + timeout.toSeconds() + " s: is a keymesh-authority running? "
                        + "The request stays in " + context.layout.request(id) + " and is carried out when a leader sees it.");
            }
            if (answer.get().request().status() != RequestStatus.DONE) {
                throw new IllegalStateException("revoke of " + node + " refused: " + answer.get().request().reason());
            }
            spec.commandLine().getOut().println("revoked " + node + " (commit revision " + answer.get().modRevision() + ")");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
