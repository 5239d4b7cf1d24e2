package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.Client;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pins the jetcd internals {@link EtcdClients#reconnectNow} reaches: a jetcd upgrade that moves them fails here. */
class EtcdClientsReconnectTest {
    @Test
    void reachesTheChannelOfThisJetcdVersionBeforeAndAfterItExists() throws Exception {
        // A call makes the channel; it waits for a connection that never comes (jetcd waits for ready), so it times out.
        try (Client client = EtcdClients.connect(EtcdAccess.plain(List.of(URI.create("http://127.0.0.1:9"))))) {
            assertTrue(EtcdClients.reconnectNow(client), "before the first call: no channel yet");
            try {
                client.getKVClient().get(EtcdBytes.key("/x")).get(1, java.util.concurrent.TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException expected) {
                // nothing listens on the discard port
            }
            java.lang.reflect.Field manager = client.getClass().getDeclaredField("connectionManager");
            manager.setAccessible(true);
            Object connections = manager.get(client);
            java.lang.reflect.Field channel = connections.getClass().getDeclaredField("managedChannel");
            channel.setAccessible(true);
            assertTrue(channel.get(connections) instanceof io.grpc.ManagedChannel, "jetcd keeps a gRPC ManagedChannel there");
            assertTrue(EtcdClients.reconnectNow(client));
        }
    }
}
