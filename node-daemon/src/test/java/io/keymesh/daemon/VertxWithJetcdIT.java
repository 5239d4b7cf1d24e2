package io.keymesh.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.keymesh.testing.etcd.EtcdExtension;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Vert.x 5 and jetcd share one JVM, one Netty (4.2) and one Vert.x instance: a verticle writes and
 * reads through jetcd's futures and receives a watch event, all continuing on its event loop.
 */
class VertxWithJetcdIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.singleMember();

    /** Puts a value, watches the key from the next revision, overwrites it, and completes with what the watch saw. */
    static final class RoundTrip extends VerticleBase {
        private final Client client;
        private final String key;
        final Promise<String> watched = Promise.promise();
        /** Set where jetcd itself completes a future, before Vert.x is involved. */
        volatile Context jetcdCompletedOn;
        private Watch.Watcher watcher;

        RoundTrip(Client client, String key) {
            this.client = client;
            this.key = key;
        }

        @Override
        public Future<?> start() {
            Context ctx = context;
            ByteSequence k = ByteSequence.from(key, StandardCharsets.UTF_8);
            var put = client.getKVClient().put(k, bytes("first"))
                    .whenComplete((response, error) -> jetcdCompletedOn = Vertx.currentContext());
            return Future.fromCompletionStage(put, ctx)
                    .compose(response -> Future.fromCompletionStage(client.getKVClient().get(k), ctx))
                    .map(get -> {
                        long revision = get.getHeader().getRevision();
                        watcher = client.getWatchClient().watch(k, WatchOption.builder().withRevision(revision + 1).build(),
                                response -> ctx.runOnContext(v -> {
                                    for (WatchEvent event : response.getEvents()) {
                                        watched.tryComplete(event.getKeyValue().getValue().toString(StandardCharsets.UTF_8));
                                    }
                                }),
                                error -> ctx.runOnContext(v -> watched.tryFail(error)));
                        return get.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
                    })
                    .compose(first -> {
                        if (!first.equals("first")) {
                            return Future.failedFuture("read back " + first);
                        }
                        return Future.fromCompletionStage(client.getKVClient().put(k, bytes("second")), ctx);
                    });
        }

        @Override
        public Future<?> stop() {
            if (watcher != null) {
                watcher.close();
            }
            return Future.succeededFuture();
        }
    }

    @Test
    void aVerticleTalksToEtcdThroughJetcd() throws Exception {
        Vertx vertx = Vertx.vertx();
        // jetcd runs its gRPC transport on the Vert.x instance it is given, so the daemon has one
        // set of event loops, not two.
        try (Client client = etcd.clientBuilder().vertx(vertx).build()) {
            RoundTrip verticle = new RoundTrip(client, etcd.uniquePrefix("vertx") + "/k");
            vertx.deployVerticle(verticle).await(30, TimeUnit.SECONDS);
            assertEquals("second", verticle.watched.future().await(30, TimeUnit.SECONDS));
            // jetcd's gRPC transport runs on the Vert.x instance it was given: its own futures
            // complete on one of that instance's threads, so the daemon has one set of event loops.
            assertNotNull(verticle.jetcdCompletedOn, "jetcd completed its future outside any Vert.x thread");
            assertSame(vertx, verticle.jetcdCompletedOn.owner());
            // Netty 4.2 is on the class path, as grpc-netty and Vert.x 5 both need it.
            Class.forName("io.netty.channel.MultiThreadIoEventLoopGroup");
        } finally {
            vertx.close().await(30, TimeUnit.SECONDS);
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
