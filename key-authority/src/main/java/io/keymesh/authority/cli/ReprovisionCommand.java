package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeName;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RequestAction;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "reprovision", mixinStandardHelpOptions = true,
        description = "Authorize a new identity (a re-imaged host) for an existing node name, and create its join token. When it "
                + "joins, the authority admits it at the next epoch with the node's overlay address and fences the old identity for good.")
final class ReprovisionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "NODE")
    String node;

    @Option(names = "--identity", required = true, paramLabel = "BASE64",
            description = "the new host's identity public key ('keymesh-daemon --print-identity' on that host)")
    String identity;

    @Option(names = "--token-ttl", defaultValue = "1h", converter = Durations.class,
            description = "how long the join token is valid (default ${DEFAULT-VALUE})")
    Duration tokenTtl;

    @Option(names = "--out", paramLabel = "FILE", description = "write the join token to this 0600 file instead of printing it")
    Path out;

    @Override
    public Integer call() {
        NodeName.require(node);
        Ed25519PublicKey newIdentity;
        try {
            newIdentity = Ed25519PublicKey.parse(identity);
            if (!newIdentity.isFullyValid()) {
                throw new IllegalArgumentException("not a valid curve point (not of prime order)");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--identity is not an identity public key (" + e.getMessage() + ")");
        }
        try (Context context = Context.of(spec)) {
            List<KeyValue> kvs = context.await(context.client().getKVClient().get(EtcdBytes.key(context.layout.node(node)))).getKvs();
            if (kvs.isEmpty()) {
                throw new IllegalArgumentException("no node " + node + "; a new host joins with 'keymesh token create --node " + node + "'");
            }
            NodeRecord current = Json.parse(kvs.get(0).getValue().getBytes(), NodeRecord.class);
            if (!current.isActive()) {
                throw new IllegalArgumentException(node + " was revoked; a new host joins it with 'keymesh token create --node " + node + "'");
            }
            if (out != null && java.nio.file.Files.exists(out)) {
                throw new IllegalArgumentException(out + " exists already; remove it or choose another --out");
            }
            if (current.identityKey().equals(newIdentity)) {
                throw new IllegalArgumentException(node + " already has identity " + newIdentity.keyId() + "; nothing to reprovision");
            }
            boolean tombstoned = !context.await(context.client().getKVClient()
                    .get(EtcdBytes.key(context.layout.revoked(newIdentity.fingerprint())))).getKvs().isEmpty();
            if (tombstoned) {
                throw new IllegalArgumentException("identity " + newIdentity.keyId() + " was revoked and can never enroll again; "
                        + "the host needs fresh keys (empty its state directory)");
            }
            Instant now = Instant.now();
            String id = "reprovision-" + node + "-" + now.toEpochMilli();
            if (!OperatorRequests.create(context, OperatorRequest.pending(id, RequestAction.REPROVISION, node, newIdentity, now))) {
                throw new IllegalStateException("request " + id + " exists already; run the command again");
            }
            JoinTokenSecret secret = JoinTokenSecret.generate();
            JoinToken token = TokenCommand.create(context, secret, node, 1, tokenTtl);
            var err = spec.commandLine().getErr();
            err.println("request " + id + " authorizes identity " + newIdentity.keyId() + " for " + node + " (now identity "
                    + current.identityKey().keyId() + ", epoch " + current.epoch() + "); join token " + token.id() + " expires "
                    + token.expiresAt());
            if (out != null) {
                KeyFiles.writeSecret(out, secret.reveal(), false);
                err.println("wrote the join token to " + out);
            } else {
                spec.commandLine().getOut().println(secret.reveal());
            }
            err.flush();
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
