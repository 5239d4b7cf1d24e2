package io.keymesh.authority.store;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.keymesh.authority.election.Leadership;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Every leader write: one etcd transaction whose first condition is the leader's fence. When it
 * fails, the same transaction reads the leader key back, which tells a lost term (fenced) from
 * a changed value (conflict) without a second round trip.
 */
public final class FencedWriter {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** How a fenced transaction ended. */
    public sealed interface Outcome {
        record Committed(long revision) implements Outcome {
        }

        /** Another condition failed; {@code revision} is the store's at that moment. */
        record Conflict(long revision) implements Outcome {
        }

        /** The leader key is gone or belongs to a newer term: stop writing. */
        record Fenced() implements Outcome {
        }
    }

    private final Client client;

    public FencedWriter(Client client) {
        this.client = client;
    }

    public Outcome commit(Leadership leadership, List<Cmp> conditions, List<Op> ops)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<Cmp> all = new ArrayList<>(conditions.size() + 1);
        all.add(leadership.fence());
        all.addAll(conditions);
        TxnResponse response = client.getKVClient().txn()
                .If(all.toArray(Cmp[]::new))
                .Then(ops.toArray(Op[]::new))
                .Else(Op.get(leadership.leaderKey(), GetOption.DEFAULT))
                .commit()
                .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        long revision = response.getHeader().getRevision();
        if (response.isSucceeded()) {
            return new Outcome.Committed(revision);
        }
        List<KeyValue> leaderKey = response.getGetResponses().get(0).getKvs();
        if (leaderKey.isEmpty() || leaderKey.get(0).getCreateRevision() != leadership.createRevision()) {
            return new Outcome.Fenced();
        }
        return new Outcome.Conflict(revision);
    }
}
