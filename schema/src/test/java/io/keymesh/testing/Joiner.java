package io.keymesh.testing;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.ByteSequence;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.Endpoint;
import io.keymesh.schema.record.EnrollmentKind;
import io.keymesh.schema.record.EnrollmentRequest;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.verify.SignedEnrollment;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Plays the node side of a join against etcd: issues join tokens and writes signed enrollments. */
public final class Joiner {
    private final Client client;
    private final KeyLayout layout;
    private final String mesh;

    public Joiner(Client client, KeyLayout layout, String mesh) {
        this.client = client;
        this.layout = layout;
        this.mesh = mesh;
    }

    public JoinTokenSecret issueToken(int uses, String boundNode) throws Exception {
        return issueToken(uses, boundNode, Duration.ofHours(1));
    }

    /** A token valid for {@code validFor} from now; a negative duration makes it already expired. */
    public JoinTokenSecret issueToken(int uses, String boundNode, Duration validFor) throws Exception {
        JoinTokenSecret secret = JoinTokenSecret.generate();
        Instant now = Instant.now();
        JoinToken token = new JoinToken(secret.id(), secret.proofKey().publicKey(), boundNode, uses, now.plus(validFor), now.minusSeconds(3600));
        client.getKVClient().put(bytes(layout.token(secret.id())), ByteSequence.from(Json.toLine(Json.toTree(token))))
                .get(10, TimeUnit.SECONDS);
        return secret;
    }

    /** A host's keys and the signed join request it would write. */
    public record Host(String node, Ed25519PrivateKey identity, WireGuardPrivateKey wg, byte[] request) {
    }

    /** The endpoint every host joins with unless told otherwise. */
    public static final Endpoint SHARED_ENDPOINT = Endpoint.parse("192.0.2.10:51820");

    /** A new host with fresh keys and its signed join request, advertising {@link #SHARED_ENDPOINT}. */
    public Host host(String node, JoinTokenSecret token) {
        return host(node, token, SHARED_ENDPOINT);
    }

    /** A new host with fresh keys and its signed join request, advertising {@code endpoint}. */
    public Host host(String node, JoinTokenSecret token, Endpoint endpoint) {
        return request(node, Ed25519PrivateKey.generate(), WireGuardPrivateKey.generate(), token, endpoint);
    }

    /** A fresh join request (new timestamp, so a new digest) for the given keys. */
    public Host request(String node, Ed25519PrivateKey identity, WireGuardPrivateKey wg, JoinTokenSecret token) {
        return request(node, identity, wg, token, SHARED_ENDPOINT);
    }

    private Host request(String node, Ed25519PrivateKey identity, WireGuardPrivateKey wg, JoinTokenSecret token, Endpoint endpoint) {
        EnrollmentRequest request = new EnrollmentRequest(mesh, node, EnrollmentKind.JOIN, identity.publicKey(), wg.publicKey(),
                List.of(endpoint), token.id(), 0, Instant.now().plusNanos(System.nanoTime() % 1000));
        return new Host(node, identity, wg, SignedEnrollment.sign(request, identity, token.proofKey()));
    }

    public CompletableFuture<?> write(String node, byte[] value) {
        return client.getKVClient().put(bytes(layout.enroll(node)), ByteSequence.from(value));
    }

    public Optional<EnrollmentResult> result(String node) throws Exception {
        List<KeyValue> kvs = client.getKVClient().get(bytes(layout.enrollResult(node))).get(10, TimeUnit.SECONDS).getKvs();
        return kvs.isEmpty() ? Optional.empty() : Optional.of(Json.parse(kvs.get(0).getValue().getBytes(), EnrollmentResult.class));
    }

    /** Waits for an answer to exactly this request. */
    public EnrollmentResult awaitResult(String node, byte[] request, Duration timeout) throws Exception {
        String digest = io.keymesh.schema.crypto.Digests.sha256Hex(request);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<EnrollmentResult> result = result(node);
            if (result.isPresent() && result.get().requestDigest().equals(digest)) {
                return result.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no answer for the enrollment of " + node + " within " + timeout);
    }

    private static ByteSequence bytes(String key) {
        return ByteSequence.from(key, java.nio.charset.StandardCharsets.UTF_8);
    }
}
