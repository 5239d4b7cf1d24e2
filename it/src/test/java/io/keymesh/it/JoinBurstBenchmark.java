package io.keymesh.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.etcd.jetcd.options.GetOption;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.Ed25519PrivateKey;
import io.keymesh.schema.crypto.JoinTokenSecret;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.testing.Joiner;
import io.keymesh.testing.etcd.EtcdExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A burst of joins against a 3-member etcd and three keymesh-authority processes: every join
 * request is written at once, and the clock runs until the leader has answered all of them.
 * Run with {@code mvn -B verify -Pbench -pl it -am}; {@code -Dkeymesh.bench.joins=N} sets N.
 */
class JoinBurstBenchmark {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.cluster(3);

    private static final int JOINS = Integer.getInteger("keymesh.bench.joins", 1000);

    @TempDir
    Path dir;

    @Test
    void burstOfJoins() throws Exception {
        KeyLayout layout = new KeyLayout(etcd.uniquePrefix("bench"));
        Path key = dir.resolve("authority.key");
        KeyFiles.writeSecret(key, Ed25519PrivateKey.generate().toBase64Secret(), false);
        try (AuthorityProcesses replicas = new AuthorityProcesses(etcd.cluster().clientEndpoints(), layout, key, dir, 5)) {
            for (String name : List.of("a", "b", "c")) {
                replicas.start(name);
            }
            String leader = replicas.awaitLeader(etcd.client(), null, Duration.ofSeconds(60));
            Joiner joiner = new Joiner(etcd.client(), layout, "it-mesh");
            JoinTokenSecret token = joiner.issueToken(JOINS, null);
            List<Joiner.Host> hosts = new ArrayList<>(JOINS);
            for (int i = 0; i < JOINS; i++) {
                hosts.add(joiner.host("node-" + i, token));
            }

            long start = System.nanoTime();
            CompletableFuture.allOf(hosts.stream().map(h -> joiner.write(h.node(), h.request())).toArray(CompletableFuture[]::new))
                    .get(60, TimeUnit.SECONDS);
            long written = System.nanoTime();
            long answered = 0;
            long deadline = start + Duration.ofMinutes(5).toNanos();
            while (answered < JOINS && System.nanoTime() < deadline) {
                answered = etcd.client().getKVClient().get(EtcdBytes.key(layout.directory(KeyLayout.Kind.NODE)),
                        GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(10, TimeUnit.SECONDS).getCount();
                if (answered < JOINS) {
                    Thread.sleep(20);
                }
            }
            long done = System.nanoTime();
            assertEquals(JOINS, answered, "not all joins admitted within 5 minutes");

            double seconds = (done - start) / 1e9;
            double txnCount = replicas.metric(leader, "keymesh_authority_txn_seconds_count").orElse(0.0);
            double txnSum = replicas.metric(leader, "keymesh_authority_txn_seconds_sum").orElse(0.0);
            String line = String.format(Locale.ROOT,
                    "{\"benchmark\":\"join-burst\",\"joins\":%d,\"etcdMembers\":3,\"authorityReplicas\":3,"
                            + "\"writeSeconds\":%.3f,\"allAdmittedSeconds\":%.3f,\"admittedPerSecond\":%.1f,\"meanTxnMillis\":%.2f}",
                    JOINS, (written - start) / 1e9, seconds, JOINS / seconds, txnCount == 0 ? 0 : 1000 * txnSum / txnCount);
            System.out.println("[benchmark] " + line);
            Path results = Path.of("target", "benchmarks");
            Files.createDirectories(results);
            Files.writeString(results.resolve("join-burst.json"), line + "\n");
        }
    }
}
