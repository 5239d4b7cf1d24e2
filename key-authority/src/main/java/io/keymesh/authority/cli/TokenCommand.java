package io.keymesh.authority.cli;

import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.NodeName;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "token", mixinStandardHelpOptions = true, description = "Create, list and revoke join tokens.",
        subcommands = {TokenCommand.Create.class, TokenCommand.ListTokens.class, TokenCommand.Revoke.class})
final class TokenCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command: create, list or revoke");
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a join token. The token is shown once (or written to --out); etcd keeps only its public proof key.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--node", description = "the only node name the token may admit")
        String node;

        @Option(names = "--uses", defaultValue = "1", description = "how many nodes it may admit (default ${DEFAULT-VALUE})")
        int uses;

        @Option(names = "--ttl", defaultValue = "24h", converter = Durations.class, description = "how long it is valid (default ${DEFAULT-VALUE})")
        Duration ttl;

        @Option(names = "--out", paramLabel = "FILE", description = "write the token to this 0600 file instead of printing it")
        Path out;

        @Override
        public Integer call() {
            if (node != null) {
                NodeName.require(node);
            }
            if (uses < 1 || uses > 100_000) {
                throw new IllegalArgumentException("--uses must be 1 to 100000");
            }
            try (Context context = Context.of(spec)) {
                JoinTokenSecret secret = JoinTokenSecret.generate();
                JoinToken token = create(context, secret, node, uses, ttl);
                String summary = "token " + secret.id() + " for " + (node == null ? "any node" : "node " + node) + ", "
                        + uses + (uses == 1 ? " use" : " uses") + ", expires " + token.expiresAt();
                if (out != null) {
                    KeyFiles.writeSecret(out, secret.reveal(), false);
                    spec.commandLine().getOut().println("wrote " + summary + " to " + out);
                } else {
                    spec.commandLine().getErr().println("created " + summary + "; it is shown once, below:");
                    spec.commandLine().getOut().println(secret.reveal());
                }
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }

    /** Stores a new token (its public proof key, never the secret); returns what was stored. */
    static JoinToken create(Context context, JoinTokenSecret secret, String node, int uses, Duration ttl) {
        Instant now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        JoinToken token = new JoinToken(secret.id(), secret.proofKey().publicKey(), node, uses, now.plus(ttl), now);
        String key = context.layout.token(secret.id());
        boolean created = context.await(context.client().getKVClient().txn()
                .If(new Cmp(EtcdBytes.key(key), Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(EtcdBytes.key(key), EtcdBytes.value(Json.toLine(Json.toTree(token))), PutOption.DEFAULT))
                .commit()).isSucceeded();
        if (!created) {
            throw new IllegalStateException("token id " + secret.id() + " exists already; run the command again");
        }
        return token;
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List join tokens (never their secrets).")
    static final class ListTokens implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json")
        String output;

        @Override
        public Integer call() {
            try (Context context = Context.of(spec)) {
                List<JoinToken> tokens = new ArrayList<>();
                for (KeyValue kv : context.list(context.layout.directory(io.keymesh.schema.layout.KeyLayout.Kind.TOKEN))) {
                    try {
                        tokens.add(Json.parse(kv.getValue().getBytes(), JoinToken.class));
                    } catch (MalformedValueException e) {
                        spec.commandLine().getErr().println("skipping " + EtcdBytes.text(kv.getKey()) + ": " + e.getMessage());
                    }
                }
                if ("json".equals(output)) {
                    spec.commandLine().getOut().println(Json.toLineString(Json.mapper().valueToTree(tokens)));
                    spec.commandLine().getOut().flush();
                    return 0;
                }
                Instant now = Instant.now();
                Table table = new Table("ID", "NODE", "USES LEFT", "EXPIRES", "STATE");
                tokens.forEach(t -> table.row(t.id(), t.node() == null ? "any" : t.node(), t.usesLeft(), t.expiresAt(),
                        t.isUsableAt(now) ? "usable" : now.isBefore(t.expiresAt()) ? "spent" : "expired"));
                table.print(spec.commandLine().getOut());
                return 0;
            }
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Delete a join token so it admits nobody more.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            try (Context context = Context.of(spec)) {
                long deleted = context.await(context.client().getKVClient().delete(EtcdBytes.key(context.layout.token(id)))).getDeleted();
                if (deleted == 0) {
                    throw new IllegalArgumentException("no join token " + id);
                }
                spec.commandLine().getOut().println("revoked token " + id);
                spec.commandLine().getOut().flush();
                return 0;
            }
        }
    }
}
