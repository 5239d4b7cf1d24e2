package io.keymesh.daemon.join;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.PutResponse;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.keymesh.daemon.keys.NodeKeys;
import io.keymesh.runtime.Errors;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.Digests;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentOutcome;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.verify.SignedEnrollment;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A host's join: it writes its enrollment request, signed with its identity key and proving the
 * join token, to {@code enroll/<node>}, then waits for the leader's answer to exactly that
 * request at {@code enroll-results/<node>} (watched, and re-read now and then in case the watch
 * was interrupted), saying every so often that it still waits. Blocking; runs on its own thread.
 */
public final class Enrollment {
    private static final Logger LOG = LoggerFactory.getLogger(Enrollment.class);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    private static final Duration ETCD_TIMEOUT = Duration.ofSeconds(15);

    /** The authority turned the join down. */
    public static final class RejectedException extends Exception {
        public RejectedException(String message) {
            super(message, null, false, false);
        }
    }

    private Enrollment() {
    }

    /** Joins and returns the admitted epoch; keeps waiting while no authority answers, until interrupted. */
    public static long join(Client client, KeyLayout layout, String mesh, String node, NodeKeys keys, List<Endpoint> endpoints,
                            JoinTokenSecret token, Clock clock) throws Exception {
        EnrollmentRequest request = new EnrollmentRequest(mesh, node, EnrollmentKind.JOIN, keys.identity().publicKey(),
                keys.wireGuard().publicKey(), endpoints, token.id(), 0, clock.instant());
        byte[] value = SignedEnrollment.sign(request, keys.identity(), token.proofKey());
        String digest = Digests.sha256Hex(value);
        String resultKey = layout.enrollResult(node);
        PutResponse put = null;
        for (long attempt = 1; put == null; attempt++) {
            try {
                put = client.getKVClient().put(EtcdBytes.key(layout.enroll(node)), EtcdBytes.value(value))
                        .get(ETCD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // etcd away for now: the join waits for it, like everything else in the daemon
                LOG.warn("cannot write the join request for {} ({}); retrying (attempt {})", node, Errors.rootMessage(e), attempt);
                Thread.sleep(Math.min(10_000, 500 * attempt));
            }
        }
        LOG.info("join request for {} written (token {}, WireGuard key {}); waiting for the key authority", node, token.id(),
                keys.wireGuard().publicKey());
        CompletableFuture<EnrollmentResult> answer = new CompletableFuture<>();
        Watch.Listener listener = Watch.listener(response -> {
            for (WatchEvent event : response.getEvents()) {
                if (event.getEventType() == WatchEvent.EventType.PUT) {
                    parse(event.getKeyValue()).filter(r -> r.requestDigest().equals(digest)).ifPresent(answer::complete);
                }
            }
        });
        long waitedSeconds = 0;
        Watch.Watcher watcher = client.getWatchClient().watch(EtcdBytes.key(resultKey),
                WatchOption.builder().withRevision(put.getHeader().getRevision() + 1).build(), listener);
        try {
            while (true) {
                read(client, resultKey).filter(r -> r.requestDigest().equals(digest)).ifPresent(answer::complete);
                try {
                    return outcome(answer.get(PROGRESS_EVERY.toMillis(), TimeUnit.MILLISECONDS), node);
                } catch (TimeoutException e) {
                    waitedSeconds += PROGRESS_EVERY.toSeconds();
                    LOG.info("still waiting for the key authority to answer the join of {} ({} s); is an authority running?",
                            node, waitedSeconds);
                }
            }
        } finally {
            watcher.close();
        }
    }

    private static long outcome(EnrollmentResult result, String node) throws RejectedException {
        if (result.outcome() == EnrollmentOutcome.ADMITTED) {
            LOG.info("joined: {} admitted at epoch {}", node, result.epoch());
            return result.epoch();
        }
        throw new RejectedException("the key authority rejected the join of " + node + ": " + result.reason()
                + (result.detail() == null ? "" : " (" + result.detail() + ")"));
    }

    private static Optional<EnrollmentResult> read(Client client, String key) {
        try {
            List<KeyValue> kvs = client.getKVClient().get(EtcdBytes.key(key)).get(ETCD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getKvs();
            return kvs.isEmpty() ? Optional.empty() : parse(kvs.get(0));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        } catch (Exception e) {
            return Optional.empty(); // etcd away for a moment: the watch, or the next read, brings the answer
        }
    }

    private static Optional<EnrollmentResult> parse(KeyValue kv) {
        try {
            return Optional.of(Json.parse(kv.getValue().getBytes(), EnrollmentResult.class));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }
}
