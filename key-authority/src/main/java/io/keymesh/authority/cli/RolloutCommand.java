package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.Cli;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeName;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * A rolling rotation: nodes in batches of {@code --parallel}, each batch a {@link RotationStep}
 * that must commit and converge before the next starts. The rollout's own record in
 * {@code requests/} (action rollout: the nodes and the batch size) and the rotate requests it
 * names deterministically ({@code <rollout>.<node>}) are all its state, so {@code --resume} picks
 * it up where it stopped, from any machine.
 */
@Command(name = "rollout", mixinStandardHelpOptions = true,
        description = "Rotate the WireGuard keys of many nodes, a batch at a time, each batch applied by every live daemon "
                + "before the next; resumable.")
final class RolloutCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE", arity = "0..*", description = "the nodes to rotate, in this order")
    List<String> nodes = new ArrayList<>();

    @Option(names = "--all", description = "every active node, in name order")
    boolean all;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1", description = "nodes rotated at once (default ${DEFAULT-VALUE})")
    int parallel;

    @Option(names = "--timeout", defaultValue = "2m", converter = Durations.class,
            description = "how long each batch may take, commit and convergence (default ${DEFAULT-VALUE})")
    Duration timeout;

    @Option(names = "--resume", paramLabel = "ID", arity = "0..1", fallbackValue = "",
            description = "continue the unfinished rollout (the only one, or ID)")
    String resume;

    @Option(names = "--cancel", paramLabel = "ID", description = "give up an unfinished rollout (rotations already done stay)")
    String cancel;

    @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json")
    String output;

    @Override
    public Integer call() throws InterruptedException {
        if (!output.equals("text") && !output.equals("json")) {
            throw new IllegalArgumentException("--output must be text or json");
        }
        int modes = (all || !nodes.isEmpty() ? 1 : 0) + (resume != null ? 1 : 0) + (cancel != null ? 1 : 0);
        if (modes != 1 || (all && !nodes.isEmpty())) {
            throw new IllegalArgumentException("name the nodes (NODE... or --all), or --resume, or --cancel ID");
        }
        if (parallel < 1) {
            throw new IllegalArgumentException("--parallel must be at least 1");
        }
        nodes.forEach(NodeName::require);
        try (Context context = Context.of(spec)) {
            if (cancel != null) {
                return cancel(context);
            }
            OperatorRequests.Stored rollout = resume != null ? unfinished(context, resume) : start(context);
            return run(context, rollout);
        }
    }

    private OperatorRequests.Stored start(Context context) {
        List<OperatorRequests.Stored> open = unfinishedRollouts(context);
        if (!open.isEmpty()) {
            throw new IllegalStateException("rollout " + open.get(0).request().id() + " is unfinished; continue it with "
                    + "'keymesh rollout --resume' or give it up with 'keymesh rollout --cancel " + open.get(0).request().id() + "'");
        }
        Set<String> active = activeNodes(context);
        List<String> chosen = all ? List.copyOf(active) : List.copyOf(new java.util.LinkedHashSet<>(nodes));
        for (String node : chosen) {
            if (!active.contains(node)) {
                throw new IllegalArgumentException("no active node " + node + " (see 'keymesh nodes')");
            }
        }
        if (chosen.isEmpty()) {
            throw new IllegalStateException("no active node to rotate");
        }
        String id = "rollout-" + System.currentTimeMillis();
        OperatorRequest request = OperatorRequest.rollout(id, chosen, parallel, Instant.now());
        int size = Json.toLine(Json.toTree(request)).length;
        if (size > Json.MAX_VALUE_BYTES / 2) { // room for the outcome the rollout writes back
            throw new IllegalArgumentException(chosen.size() + " nodes make a rollout record of " + size + " bytes, more than "
                    + Json.MAX_VALUE_BYTES / 2 + "; roll the mesh in parts (name the nodes of each part)");
        }
        if (!OperatorRequests.create(context, request)) {
            throw new IllegalStateException("request " + id + " exists already; try again");
        }
        return OperatorRequests.read(context, id).orElseThrow(() -> new IllegalStateException("rollout " + id + " vanished"));
    }

    private int run(Context context, OperatorRequests.Stored rollout) throws InterruptedException {
        OperatorRequest plan = rollout.request();
        List<String> order = plan.nodes();
        int batchSize = plan.parallel();
        Progress progress = new Progress(spec.commandLine().getErr(), Progress.onTerminal(), order.size());
        progress.line("rollout " + plan.id() + ": " + order.size() + " node(s), " + batchSize + " at a time");
        long started = System.nanoTime();
        List<RotationStep.NodeResult> results = new ArrayList<>();
        String stopped = null;
        for (int from = 0; from < order.size() && stopped == null; from += batchSize) {
            if (OperatorRequests.read(context, plan.id()).map(r -> r.request().status() != RequestStatus.PENDING).orElse(true)) {
                stopped = "cancelled (or finished) by another 'keymesh rollout' meanwhile";
                break;
            }
            Map<String, String> batch = new LinkedHashMap<>();
            for (String node : order.subList(from, Math.min(order.size(), from + batchSize))) {
                String request = plan.id() + "." + node;
                var earlier = OperatorRequests.read(context, request);
                if (earlier.isPresent() && earlier.get().request().status() == RequestStatus.REJECTED) {
                    // Refused when this rollout ran before (revoked meanwhile, say): asking again gets the same answer.
                    progress.line(node + ": skipped, refused earlier (" + earlier.get().request().reason() + ")");
                    results.add(new RotationStep.NodeResult(node, request, "refused", 0, 0, 0, 0, earlier.get().request().reason()));
                    continue;
                }
                batch.put(node, request);
            }
            if (batch.isEmpty()) {
                continue;
            }
            RotationStep.Outcome outcome = RotationStep.run(context, batch, timeout, progress, from);
            results.addAll(outcome.results());
            outcome.results().forEach(r -> progress.line(RotationStep.describe(r)));
            stopped = outcome.stopReason();
        }
        progress.show(stopped == null ? order.size() : results.size(), stopped == null ? "done" : "stopped", "");
        progress.finish();
        double seconds = Math.round((System.nanoTime() - started) / 1e7) / 100.0;
        Instant now = Instant.now();
        OperatorRequests.Stored current = OperatorRequests.read(context, plan.id()).orElse(rollout);
        if (current.request().status() != RequestStatus.PENDING) {
            report(plan.id(), "cancelled meanwhile", seconds, results);
            throw new Cli.Failure("rollout " + plan.id() + " was cancelled while it ran; rotations already requested still complete", 1);
        }
        OperatorRequest next = stopped == null
                ? current.request().completed(RequestStatus.DONE, "rotated " + order.size() + " node(s) in " + seconds + " s", now)
                : current.request().noted(("stopped: " + stopped).substring(0, Math.min(500, ("stopped: " + stopped).length())), now);
        OperatorRequests.update(context, current, next);
        report(plan.id(), stopped, seconds, results);
        if (stopped != null) {
            throw new Cli.Failure("rollout " + plan.id() + " stopped: " + stopped + "; fix it, then 'keymesh rollout --resume'", 1);
        }
        return 0;
    }

    private void report(String id, String stopped, double seconds, List<RotationStep.NodeResult> results) {
        var out = spec.commandLine().getOut();
        if (output.equals("json")) {
            var json = Json.mapper().createObjectNode();
            json.put("rollout", id);
            json.put("status", stopped == null ? "done" : "stopped");
            if (stopped != null) {
                json.put("reason", stopped);
            }
            json.put("elapsedSeconds", seconds);
            RotationStep.toJson(results, json.putArray("nodes"));
            out.println(Json.toLineString(json));
        } else if (stopped == null) {
            out.println("rollout " + id + " done: " + results.size() + " node(s) rotated in " + seconds + " s");
        }
        out.flush();
    }

    private int cancel(Context context) {
        OperatorRequests.Stored rollout = unfinished(context, cancel);
        if (OperatorRequests.update(context, rollout, rollout.request().completed(RequestStatus.REJECTED, "cancelled", Instant.now()))
                .isEmpty()) {
            throw new IllegalStateException("rollout " + cancel + " changed meanwhile (is it running?); try again");
        }
        spec.commandLine().getOut().println("rollout " + cancel + " cancelled; rotations already requested still complete");
        spec.commandLine().getOut().flush();
        return 0;
    }

    private static OperatorRequests.Stored unfinished(Context context, String id) {
        List<OperatorRequests.Stored> open = unfinishedRollouts(context);
        if (id != null && !id.isEmpty()) {
            return open.stream().filter(r -> r.request().id().equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no unfinished rollout " + id));
        }
        if (open.isEmpty()) {
            throw new IllegalStateException("no unfinished rollout to resume");
        }
        if (open.size() > 1) {
            throw new IllegalStateException("several unfinished rollouts; name one: "
                    + String.join(", ", open.stream().map(r -> r.request().id()).toList()));
        }
        return open.get(0);
    }

    private static List<OperatorRequests.Stored> unfinishedRollouts(Context context) {
        return OperatorRequests.all(context).stream()
                .filter(r -> r.request().action() == RequestAction.ROLLOUT && r.request().status() == RequestStatus.PENDING)
                .toList();
    }

    /** Names of nodes whose record says active (read as stored; the authority verifies each rotation it commits). */
    private static Set<String> activeNodes(Context context) {
        Set<String> active = new TreeSet<>();
        for (KeyValue kv : context.list(context.layout.directory(KeyLayout.Kind.NODE))) {
            try {
                NodeRecord record = Json.parse(kv.getValue().getBytes(), NodeRecord.class);
                if (record.isActive()) {
                    active.add(record.node());
                }
            } catch (RuntimeException e) {
                // unreadable: not a node to rotate
            }
        }
        return active;
    }
}
