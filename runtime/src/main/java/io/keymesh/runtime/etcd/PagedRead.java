package io.keymesh.runtime.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads everything under a prefix as of one revision, in pages, so no single response has to
 * hold the whole mesh (gRPC refuses messages over its limit, 4 MiB by default).
 */
public final class PagedRead {
    /** Keys per page; with etcd's 1.5 MiB value limit a page stays under {@link #MAX_MESSAGE_BYTES}. */
    static final int PAGE = 100;
    /** The inbound message limit keymesh's etcd clients are built with. */
    public static final int MAX_MESSAGE_BYTES = 192 * 1024 * 1024;
    /** How long a page may take, unless the caller says otherwise. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** All key-values under a prefix and the revision they were read at. */
    public record Snapshot(List<KeyValue> entries, long revision) {
    }

    /** How the caller waits for each page: its own bound, and whatever it says while it waits. */
    @FunctionalInterface
    public interface PageWait {
        GetResponse await(CompletableFuture<GetResponse> page) throws InterruptedException, ExecutionException, TimeoutException;
    }

    private PagedRead() {
    }

    /** Waits up to {@link #TIMEOUT} for each page. */
    public static Snapshot prefix(Client client, String prefix) throws InterruptedException, ExecutionException, TimeoutException {
        return prefix(client, prefix, page -> page.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }

    public static Snapshot prefix(Client client, String prefix, PageWait wait)
            throws InterruptedException, ExecutionException, TimeoutException {
        ByteSequence start = EtcdBytes.key(prefix);
        ByteSequence end = ByteSequence.from(rangeEnd(start.getBytes()));
        GetResponse page = wait.await(client.getKVClient().get(start, GetOption.builder().withRange(end).withLimit(PAGE).build()));
        long revision = page.getHeader().getRevision();
        List<KeyValue> all = new ArrayList<>(page.getKvs());
        while (page.isMore() && !page.getKvs().isEmpty()) {
            byte[] last = page.getKvs().get(page.getKvs().size() - 1).getKey().getBytes();
            ByteSequence next = ByteSequence.from(Arrays.copyOf(last, last.length + 1)); // the smallest key after it
            page = wait.await(client.getKVClient().get(next,
                    GetOption.builder().withRange(end).withRevision(revision).withLimit(PAGE).build()));
            all.addAll(page.getKvs());
        }
        return new Snapshot(all, revision);
    }

    /** The first key after every key that starts with {@code prefix}. */
    static byte[] rangeEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xff) {
                byte[] end = Arrays.copyOf(prefix, i + 1);
                end[i]++;
                return end;
            }
        }
        return new byte[] {0}; // all 0xff: to the end of the key space
    }
}
