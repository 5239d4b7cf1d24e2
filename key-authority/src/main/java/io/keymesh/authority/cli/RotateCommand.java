package io.keymesh.authority.cli;

import io.keymesh.runtime.Cli;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.NodeName;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "rotate", mixinStandardHelpOptions = true,
        description = "Rotate a node's WireGuard key online (two-phase, next epoch) and wait until every live daemon applied it.")
final class RotateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE")
    String node;

    @Option(names = "--timeout", defaultValue = "2m", converter = Durations.class,
            description = "how long the rotation may take, commit and convergence (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json")
    String output;

    @Override
    public Integer call() throws InterruptedException {
        NodeName.require(node);
        if (!output.equals("text") && !output.equals("json")) {
            throw new IllegalArgumentException("--output must be text or json");
        }
        try (Context context = Context.of(spec)) {
            String id = "rotate-" + node + "-" + System.currentTimeMillis();
            Progress progress = new Progress(spec.commandLine().getErr(), Progress.onTerminal(), 1);
            RotationStep.Outcome outcome = RotationStep.run(context, Map.of(node, id), timeout, progress, 0);
            progress.finish();
            var out = spec.commandLine().getOut();
            if (output.equals("json")) {
                var array = Json.mapper().createArrayNode();
                RotationStep.toJson(outcome.results(), array);
                out.println(Json.toLineString(array.get(0)));
            } else if (outcome.completed()) {
                out.println(RotationStep.describe(outcome.results().get(0)));
            }
            out.flush();
            if (!outcome.completed()) {
                throw new Cli.Failure(outcome.stopReason(), 1);
            }
            return 0;
        }
    }
}
