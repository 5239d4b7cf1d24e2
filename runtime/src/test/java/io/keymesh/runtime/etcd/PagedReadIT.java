package io.keymesh.runtime.etcd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.etcd.jetcd.KeyValue;
import io.keymesh.testing.etcd.EtcdExtension;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PagedReadIT {
    @RegisterExtension
    static final EtcdExtension etcd = EtcdExtension.singleMember();

    @Test
    void readsEveryKeyAcrossPagesAtOneRevisionAndNothingOutsideThePrefix() throws Exception {
        String prefix = etcd.uniquePrefix("paged") + "/";
        int count = PagedRead.PAGE * 2 + 37;
        CompletableFuture.allOf(IntStream.range(0, count).mapToObj(i -> etcd.client().getKVClient()
                .put(EtcdBytes.key(prefix + String.format("k%04d", i)), EtcdBytes.value(new byte[] {(byte) i})))
                .toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
        // A neighbour that shares the prefix text minus its slash must not be read.
        etcd.client().getKVClient().put(EtcdBytes.key(prefix.substring(0, prefix.length() - 1) + "0"), EtcdBytes.value(new byte[1]))
                .get(10, TimeUnit.SECONDS);
        long before = etcd.currentRevision();

        PagedRead.Snapshot snapshot = PagedRead.prefix(etcd.client(), prefix);
        List<KeyValue> entries = snapshot.entries();
        assertEquals(count, entries.size());
        assertEquals(prefix + "k0000", entries.get(0).getKey().toString(StandardCharsets.UTF_8));
        assertEquals(prefix + String.format("k%04d", count - 1), entries.get(count - 1).getKey().toString(StandardCharsets.UTF_8));
        assertArrayEquals(new byte[] {(byte) 5}, entries.get(5).getValue().getBytes());
        assertEquals(before, snapshot.revision());
    }

    @Test
    void theRangeEndFollowsEveryKeyWithThePrefix() {
        assertArrayEquals("/a0".getBytes(StandardCharsets.UTF_8), PagedRead.rangeEnd("/a/".getBytes(StandardCharsets.UTF_8)));
        assertArrayEquals(new byte[] {2}, PagedRead.rangeEnd(new byte[] {1, (byte) 0xff}));
    }
}
