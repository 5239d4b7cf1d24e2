package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeStatus;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import io.keymesh.schema.record.RequestStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * One step of a rotation or rollout: rotate some nodes at once and wait until it counts as done,
 * that is, until the authority committed every rotation (the rotate request is answered done; its
 * mod revision is the commit) and every live daemon reports an applied revision at or past the
 * last commit. Request ids are given, so a step interrupted and run again picks up the same
 * requests instead of asking twice.
 */
final class RotationStep {
    /** How one node's rotation went. */
    record NodeResult(String node, String request, String outcome, long epoch, long commitRevision, double commitSeconds,
                      double convergeSeconds, String detail) {
    }

    /** The step's results, and why it stopped the run (null when it completed). */
    record Outcome(List<NodeResult> results, String stopReason) {
        boolean completed() {
            return stopReason == null;
        }
    }

    private RotationStep() {
    }

    /**
     * @param requests node name to the id of its rotate request (created if absent)
     * @param done     steps finished before this one, for the progress line
     */
    static Outcome run(Context context, Map<String, String> requests, Duration timeout, Progress progress, int done)
            throws InterruptedException {
        long started = System.nanoTime();
        for (Map.Entry<String, String> e : requests.entrySet()) {
            OperatorRequests.create(context, OperatorRequest.pending(e.getValue(), RequestAction.ROTATE, e.getKey(), null, Instant.now()));
        }
        String names = String.join(", ", requests.keySet());
        Map<String, OperatorRequests.Stored> answers = new LinkedHashMap<>();
        Map<String, Double> commitSeconds = new LinkedHashMap<>();
        long deadline = started + timeout.toNanos();
        for (Map.Entry<String, String> e : requests.entrySet()) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            Optional<OperatorRequests.Stored> answer = OperatorRequests.awaitAnswer(context, e.getValue(), left,
                    s -> progress.show(done, "rotating " + names, "waiting for " + e.getKey() + " to ask for its next key, "
                            + seconds(started) + " s"));
            if (answer.isEmpty()) {
                String why = "rotation of " + e.getKey() + " not committed within " + timeout.toSeconds() + " s: "
                        + (!isMarked(context, e.getKey()) ? "the authority has not started it: is a keymesh-authority running?"
                        : hasStatus(context, e.getKey()) ? "its daemon reported in the last 30 s but did not ask for its next key "
                                + "(stopped since, or see its log); the rotation stays requested and completes when it runs"
                        : "no live daemon reports for it (down, or cannot reach etcd); the rotation stays requested and "
                                + "completes when it comes back");
                return new Outcome(results(context, requests, answers, commitSeconds, Map.of(), e.getKey()), why);
            }
            answers.put(e.getKey(), answer.get());
            commitSeconds.put(e.getKey(), seconds(started));
            if (answer.get().request().status() == RequestStatus.REJECTED) {
                return new Outcome(results(context, requests, answers, commitSeconds, Map.of(), null),
                        "rotation of " + e.getKey() + " refused: " + answer.get().request().reason());
            }
        }
        long commit = answers.values().stream().mapToLong(OperatorRequests.Stored::modRevision).max().orElse(0);
        while (true) {
            List<NodeStatus> live = OperatorRequests.liveStatuses(context);
            List<NodeStatus> behind = live.stream().filter(s -> s.appliedRevision() < commit)
                    .sorted(Comparator.comparing(NodeStatus::node)).toList();
            if (behind.isEmpty()) {
                double converged = seconds(started);
                Map<String, Double> convergeSeconds = new LinkedHashMap<>();
                requests.keySet().forEach(n -> convergeSeconds.put(n, converged));
                return new Outcome(results(context, requests, answers, commitSeconds, convergeSeconds, null), null);
            }
            if (System.nanoTime() >= deadline) {
                String list = behind.stream().limit(10).map(s -> s.node() + " (applied " + s.appliedRevision() + ")")
                        .collect(Collectors.joining(", "));
                return new Outcome(results(context, requests, answers, commitSeconds, Map.of(), null),
                        behind.size() + " of " + live.size() + " live daemons did not apply commit " + commit + " within "
                                + timeout.toSeconds() + " s: " + list);
            }
            progress.show(done, "rotating " + names, "committed at revision " + commit + ", " + (live.size() - behind.size()) + "/"
                    + live.size() + " daemons applied it, " + seconds(started) + " s");
            // Reading every status costs a few hundred bytes per daemon: often at first, when most converge, then each second.
            Thread.sleep(System.nanoTime() - started < 3_000_000_000L ? 100 : 1_000);
        }
    }

    private static List<NodeResult> results(Context context, Map<String, String> requests, Map<String, OperatorRequests.Stored> answers,
                                            Map<String, Double> commitSeconds, Map<String, Double> convergeSeconds, String timedOut) {
        List<NodeResult> results = new ArrayList<>();
        for (Map.Entry<String, String> e : requests.entrySet()) {
            OperatorRequests.Stored answer = answers.get(e.getKey());
            String outcome;
            String detail = null;
            if (answer == null) {
                outcome = e.getKey().equals(timedOut) ? "not-committed" : "pending";
            } else if (answer.request().status() == RequestStatus.REJECTED) {
                outcome = "refused";
                detail = answer.request().reason();
            } else {
                outcome = convergeSeconds.containsKey(e.getKey()) ? "rotated" : "not-converged";
            }
            results.add(new NodeResult(e.getKey(), e.getValue(), outcome, answer == null ? 0 : epoch(context, e.getKey()),
                    answer == null ? 0 : answer.modRevision(), commitSeconds.getOrDefault(e.getKey(), 0.0),
                    convergeSeconds.getOrDefault(e.getKey(), 0.0), detail));
        }
        return results;
    }

    /** The results as JSON objects appended to {@code array}, for {@code -o json}. */
    static void toJson(List<NodeResult> results, com.fasterxml.jackson.databind.node.ArrayNode array) {
        for (NodeResult r : results) {
            var entry = array.addObject();
            entry.put("node", r.node());
            entry.put("request", r.request());
            entry.put("outcome", r.outcome());
            if (r.epoch() > 0) {
                entry.put("epoch", r.epoch());
            }
            if (r.commitRevision() > 0) {
                entry.put("commitRevision", r.commitRevision());
                entry.put("commitSeconds", r.commitSeconds());
            }
            if (r.convergeSeconds() > 0) {
                entry.put("convergeSeconds", r.convergeSeconds());
            }
            if (r.detail() != null) {
                entry.put("detail", r.detail());
            }
        }
    }

    /** One line per node, for people. */
    static String describe(NodeResult r) {
        return switch (r.outcome()) {
            case "rotated" -> r.node() + ": rotated to epoch " + r.epoch() + ", committed at revision " + r.commitRevision() + " after "
                    + r.commitSeconds() + " s, applied by every live daemon after " + r.convergeSeconds() + " s";
            case "refused" -> r.node() + ": refused (" + r.detail() + ")";
            case "not-converged" -> r.node() + ": committed at revision " + r.commitRevision() + ", not applied everywhere";
            case "not-committed" -> r.node() + ": not committed (rotation still requested)";
            default -> r.node() + ": not started";
        };
    }

    private static long epoch(Context context, String node) {
        return record(context, node).map(NodeRecord::epoch).orElse(0L);
    }

    private static boolean isMarked(Context context, String node) {
        return record(context, node).map(NodeRecord::isRotationRequested).orElse(false);
    }

    /** The node's record as stored (for reporting; the daemons and the authority verify it). */
    private static Optional<NodeRecord> record(Context context, String node) {
        List<KeyValue> kvs = context.await(context.client().getKVClient().get(EtcdBytes.key(context.layout.node(node)))).getKvs();
        try {
            return kvs.isEmpty() ? Optional.empty() : Optional.of(Json.parse(kvs.get(0).getValue().getBytes(), NodeRecord.class));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean hasStatus(Context context, String node) {
        return !context.await(context.client().getKVClient().get(EtcdBytes.key(context.layout.status(node)))).getKvs().isEmpty();
    }

    private static double seconds(long since) {
        return Math.round((System.nanoTime() - since) / 1e7) / 100.0;
    }
}
