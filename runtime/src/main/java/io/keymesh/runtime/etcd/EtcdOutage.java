package io.keymesh.runtime.etcd;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says early, in one line, that etcd does not answer a long-running program's reads, naming the
 * endpoints and the cause ({@link EtcdProbe}), and says once that it answers again. A read
 * unanswered for {@link #PATIENCE} is enough to say so (a page of a snapshot takes milliseconds),
 * while the read itself goes on waiting up to its own, longer bound. One instance serves all the
 * watches of a program, so an outage is one line, not one per watch or per retry.
 */
public final class EtcdOutage {
    private static final Logger LOG = LoggerFactory.getLogger(EtcdOutage.class);
    /** How long a read waits before the program says that etcd does not answer. */
    public static final Duration PATIENCE = Duration.ofSeconds(5);
    private static final Duration PROBE = Duration.ofSeconds(2);

    private final List<URI> endpoints;
    private final String meanwhile;
    private final Duration patience;
    private final AtomicBoolean reported = new AtomicBoolean();
    private volatile long since;

    /**
     * @param meanwhile what the program does while etcd is away, for the log line ("the WireGuard peers stay as they are")
     */
    public EtcdOutage(List<URI> endpoints, String meanwhile) {
        this(endpoints, meanwhile, PATIENCE);
    }

    EtcdOutage(List<URI> endpoints, String meanwhile, Duration patience) {
        this.endpoints = List.copyOf(endpoints);
        this.meanwhile = meanwhile;
        this.patience = patience;
    }

    /**
     * Waits up to {@code timeout} for {@code answer}; once it has waited {@link #PATIENCE}, the
     * outage is reported (once for every waiter until etcd answers again) and the wait goes on.
     */
    public <T> T await(CompletableFuture<T> answer, Duration timeout) throws InterruptedException, ExecutionException, TimeoutException {
        long started = System.nanoTime();
        T value;
        if (patience.compareTo(timeout) >= 0) {
            value = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } else {
            try {
                value = answer.get(patience.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                report(started);
                value = answer.get(Math.max(0, started + timeout.toNanos() - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        }
        answered();
        return value;
    }

    private void report(long waitingSince) {
        if (reported.compareAndSet(false, true)) {
            since = waitingSince;
            EtcdProbe.Report probe = EtcdProbe.probe(endpoints, PROBE);
            LOG.warn("etcd at {} has not answered a read for {} ({}{}); {}, retrying until it does", endpoints,
                    EtcdProbe.seconds(patience), probe, probe.anyAccepts() ? ": TLS failing, no quorum, or overloaded?" : "", meanwhile);
        }
    }

    private void answered() {
        if (reported.compareAndSet(true, false)) {
            LOG.info("etcd at {} answers again, after {} s", endpoints, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - since));
        }
    }
}
