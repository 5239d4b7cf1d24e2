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
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.WireGuardPublicKey;
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
 * A host's enrollment: a join (signed with its identity key and proving the join token) or the
 * second phase of a key rotation (signed with its identity key, naming the next WireGuard key and
 * the epoch it rotates from). It writes the request to {@code enroll/<node>}, then waits for the
 * leader's answer to exactly that request at {@code enroll-results/<node>} (watched, and re-read
 * now and then in case the watch was interrupted), saying every so often that it still waits.
 * Blocking; runs on its own thread.
 */
public final class Enrollment {
    private static final Logger LOG = LoggerFactory.getLogger(Enrollment.class);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    private static final Duration ETCD_TIMEOUT = Duration.ofSeconds(15);

    /** The authority turned the request down. */
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
                keys.wireGuard().current().publicKey(), endpoints, token.id(), 0, clock.instant());
        return submit(client, layout, node, SignedEnrollment.sign(request, keys.identity(), token.proofKey()), "join",
                "token " + token.id() + ", WireGuard key " + request.wgPublicKey());
    }

    /** Asks for {@code next} to replace the key of epoch {@code baseEpoch}; returns the admitted epoch. */
    public static long rotate(Client client, KeyLayout layout, String mesh, String node, Ed25519PrivateKey identity,
                              WireGuardPublicKey next, long baseEpoch, List<Endpoint> endpoints, Clock clock) throws Exception {
        EnrollmentRequest request = new EnrollmentRequest(mesh, node, EnrollmentKind.ROTATE, identity.publicKey(), next, endpoints,
                null, baseEpoch, clock.instant());
        return submit(client, layout, node, SignedEnrollment.sign(request, identity, null), "rotation",
                "from epoch " + baseEpoch + " to WireGuard key " + next);
    }

    private static long submit(Client client, KeyLayout layout, String node, byte[] value, String what, String details)
            throws Exception {
        String digest = Digests.sha256Hex(value);
        String resultKey = layout.enrollResult(node);
        PutResponse put = null;
        for (long attempt = 1; put == null; attempt++) {
            try {
                put = client.getKVClient().put(EtcdBytes.key(layout.enroll(node)), EtcdBytes.value(value))
                        .get(ETCD_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException | TimeoutException e) {
                // etcd away for now: the join waits for it, like everything else in the daemon
                LOG.warn("cannot write the {} request for {} ({}); retrying (attempt {})", what, node, Errors.rootMessage(e), attempt);
                Thread.sleep(Math.min(10_000, 500 * attempt));
            }
        }
        LOG.info("{} request for {} written ({}); waiting for the key authority", what, node, details);
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
                    return outcome(answer.get(PROGRESS_EVERY.toMillis(), TimeUnit.MILLISECONDS), node, what);
                } catch (TimeoutException e) {
                    waitedSeconds += PROGRESS_EVERY.toSeconds();
                    LOG.info("still waiting for the key authority to answer the {} of {} ({} s); is an authority running?",
                            what, node, waitedSeconds);
                }
            }
        } finally {
            watcher.close();
        }
    }

    private static long outcome(EnrollmentResult result, String node, String what) throws RejectedException {
        if (result.outcome() == EnrollmentOutcome.ADMITTED) {
            LOG.info("{} of {} admitted at epoch {}", what, node, result.epoch());
            return result.epoch();
        }
        throw new RejectedException("the key authority rejected the " + what + " of " + node + ": " + result.reason()
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
