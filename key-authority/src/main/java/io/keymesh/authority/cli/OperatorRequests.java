package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.NodeStatus;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The CLI's side of {@code requests/}: write a request once, read it back, wait for the leader's answer. */
final class OperatorRequests {
    /** A request as stored; after the leader's answer, {@code modRevision} is the revision of the commit that carried it out. */
    record Stored(OperatorRequest request, long modRevision) {
    }

    private OperatorRequests() {
    }

    /** Writes a new request; false if one with that id exists already (left as it is). */
    static boolean create(Context context, OperatorRequest request) {
        String key = context.layout.request(request.id());
        return context.await(context.client().getKVClient().txn()
                .If(new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(EtcdBytes.key(key), EtcdBytes.value(Json.toLine(Json.toTree(request))), PutOption.DEFAULT))
                .commit()).isSucceeded();
    }

    /** Replaces a request the CLI owns (a rollout's progress record) if nobody changed it since {@code expected}. */
    static Optional<Stored> update(Context context, Stored expected, OperatorRequest next) {
        String key = context.layout.request(next.id());
        var response = context.await(context.client().getKVClient().txn()
                .If(new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.modRevision(expected.modRevision())))
                .Then(Op.put(EtcdBytes.key(key), EtcdBytes.value(Json.toLine(Json.toTree(next))), PutOption.DEFAULT))
                .commit());
        return response.isSucceeded() ? Optional.of(new Stored(next, response.getHeader().getRevision())) : Optional.empty();
    }

    static Optional<Stored> read(Context context, String id) {
        List<KeyValue> kvs = context.await(context.client().getKVClient().get(EtcdBytes.key(context.layout.request(id)))).getKvs();
        if (kvs.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Stored(Json.parse(kvs.get(0).getValue().getBytes(), OperatorRequest.class), kvs.get(0).getModRevision()));
    }

    static List<Stored> all(Context context) {
        List<Stored> all = new ArrayList<>();
        for (KeyValue kv : context.list(context.layout.directory(KeyLayout.Kind.REQUEST))) {
            try {
                all.add(new Stored(Json.parse(kv.getValue().getBytes(), OperatorRequest.class), kv.getModRevision()));
            } catch (RuntimeException e) {
                // not a request this version understands: not ours to act on
            }
        }
        return all;
    }

    /**
     * Waits until the leader answers request {@code id} (done or rejected), calling {@code waiting}
     * about every second with the seconds waited; empty after {@code timeout}.
     */
    static Optional<Stored> awaitAnswer(Context context, String id, Duration timeout, Consumer<Long> waiting) throws InterruptedException {
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        long nextTick = started;
        while (true) {
            Optional<Stored> stored = read(context, id);
            if (stored.isPresent() && stored.get().request().status() != RequestStatus.PENDING) {
                return stored;
            }
            if (System.nanoTime() >= deadline) {
                return Optional.empty();
            }
            if (System.nanoTime() >= nextTick) {
                waiting.accept((System.nanoTime() - started) / 1_000_000_000L);
                nextTick = System.nanoTime() + Duration.ofSeconds(1).toNanos();
            }
            Thread.sleep(100);
        }
    }

    /** Every live daemon's status ({@code status/} keys live under the daemons' leases). */
    static List<NodeStatus> liveStatuses(Context context) {
        List<NodeStatus> statuses = new ArrayList<>();
        for (KeyValue kv : context.list(context.layout.directory(KeyLayout.Kind.STATUS))) {
            try {
                statuses.add(Json.parse(kv.getValue().getBytes(), NodeStatus.class));
            } catch (RuntimeException e) {
                // a malformed status counts as no report
            }
        }
        return statuses;
    }
}
