package io.keymesh.daemon.reconcile;

import io.keymesh.daemon.collect.PersistentSet;
import io.keymesh.daemon.host.HostMode;
import io.keymesh.daemon.host.PeerUnderlay;
import io.keymesh.daemon.link.LinkManager;
import io.keymesh.daemon.link.LinkSpec;
import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.wireguard.DeviceState;
import io.keymesh.daemon.wireguard.PeerConfig;
import io.keymesh.daemon.wireguard.PeerTable;
import io.keymesh.daemon.wireguard.PeerDelta;
import io.keymesh.daemon.wireguard.PeerDiff;
import io.keymesh.daemon.wireguard.WireGuardDevice;
import io.keymesh.runtime.DaemonThreads;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.daemon.keys.WireGuardKeys;
import io.keymesh.schema.crypto.Ed25519PublicKey;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.IpPrefix;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that touches the WireGuard device. Each run computes the minimal delta from the
 * device to the newest verified snapshot and applies it. The device is read back in full on the
 * first run, after any failure, and at least every {@link #FULL_READ_EVERY} (so peers changed by
 * hand are corrected); in between, the worker knows the device's peers from its last read plus
 * what it applied since (WireGuard's semantics, {@link PeerTable}), because reading 10,000 peers
 * costs a hundred times more than changing one. Snapshots that arrive while
 * a run is busy coalesce into one next run (a burst of events costs one apply, and an idle
 * worker starts at once, with no fixed delay). A failed run is retried with backoff; the retry
 * reads the device again, so it applies a corrective delta for whatever half-happened.
 */
public final class DeviceWorker implements AutoCloseable {
    /** Called on the worker thread after every successful run. */
    public interface Listener {
        void applied(MeshSnapshot snapshot, Set<WireGuardPublicKey> owned);
    }

    private static final Logger LOG = LoggerFactory.getLogger(DeviceWorker.class);
    private static final Duration MIN_BACKOFF = Duration.ofMillis(200);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    static final Duration FULL_READ_EVERY = Duration.ofSeconds(60);
    /** WireGuard re-handshakes every 2 minutes on a live session; older than 3 means no session. */
    private static final Duration ACTIVE_SESSION = Duration.ofMinutes(3);
    /** Worker thread: for each replacing peer of the current run, the key it replaces. */
    private final Map<WireGuardPublicKey, WireGuardPublicKey> replacedBy = new HashMap<>();

    /** How often the interface (its MTU, following the underlay's) is checked between full reads. */
    static final Duration LINK_CHECK_EVERY = Duration.ofSeconds(10);

    /** The device as last read plus what was applied since; {@code table} is the worker's own, changed in place. */
    private record KnownDevice(WireGuardPublicKey publicKey, int listenPort, long firewallMark, PeerTable table, long readAt) {
        Map<WireGuardPublicKey, PeerConfig> peers() {
            return table.peers();
        }
    }

    private final WireGuardDevice device;
    private final LinkManager links;
    private final HostMode hostMode;
    private final WireGuardKeys keys;
    private final String node;
    private final Ed25519PublicKey identityKey;
    private final String interfaceName;
    private final DeviceOverrides overrides;
    private final Metrics metrics;
    private final Listener listener;
    private final ScheduledThreadPoolExecutor thread = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("keymesh-device"));
    private final AtomicReference<MeshSnapshot> latest = new AtomicReference<>();
    private final AtomicBoolean queued = new AtomicBoolean();
    /** Worker thread only. */
    private PersistentSet<WireGuardPublicKey> owned;
    private LinkSpec ensuredLink;
    private KnownDevice known;
    /** The snapshot and plan the known device matches; null when unknown. */
    private MeshSnapshot planned;
    private DevicePlan plannedPlan;
    private Identity plannedSelf;
    /** The desired peers of {@link #planned}: the worker's own, changed in place by each advance. */
    private Map<WireGuardPublicKey, PeerConfig> desired;
    private Duration backoff = MIN_BACKOFF;
    private volatile MeshSnapshot applied;
    private volatile boolean failing;
    private volatile boolean outsider;
    private volatile boolean checkLink;

    /**
     * @param links    null to leave the interface to someone else (it must exist)
     * @param hostMode null to leave the routing policy alone (in-memory devices); otherwise host
     *                 mode, on or off (off removes what keymesh left there)
     * @param owned    the peers keymesh configured before (persisted), so it can remove them later
     */
    public DeviceWorker(WireGuardDevice device, LinkManager links, HostMode hostMode, WireGuardKeys keys, String node,
                        Ed25519PublicKey identityKey, String interfaceName, DeviceOverrides overrides, Set<WireGuardPublicKey> owned,
                        Metrics metrics, Listener listener) {
        this.device = device;
        this.links = links;
        this.hostMode = hostMode;
        this.keys = keys;
        this.node = node;
        this.identityKey = identityKey;
        this.interfaceName = interfaceName;
        this.overrides = overrides;
        this.owned = PersistentSet.copyOf(owned);
        this.metrics = metrics;
        this.listener = listener;
        metrics.describe("keymesh_daemon_apply_seconds", "histogram", "Time to apply one delta to the device");
        metrics.describe("keymesh_daemon_peer_changes_total", "counter", "Peer changes applied to the device, by kind");
        metrics.describe("keymesh_daemon_device_settings_total", "counter", "Times the device's private key and listen port were set");
        metrics.add("keymesh_daemon_device_settings_total", 0);
        for (String kind : new String[] {"add", "update", "remove"}) {
            metrics.add("keymesh_daemon_peer_changes_total", 0, "kind", kind);
        }
        metrics.describe("keymesh_daemon_key_promotions_total", "counter",
                "Rotations completed here: the next WireGuard key, admitted by the authority, promoted and set on the device");
        metrics.add("keymesh_daemon_key_promotions_total", 0);
        metrics.describe("keymesh_daemon_handshake_nudges_total", "counter",
                "Handshakes started at once after a key rotation (ours, or an active peer's)");
        metrics.add("keymesh_daemon_handshake_nudges_total", 0);
        metrics.describe("keymesh_daemon_apply_failures_total", "counter", "Device runs that failed and were retried");
        metrics.describe("keymesh_daemon_applied_revision", "gauge", "Every node record up to this etcd revision is on the device");
        metrics.gauge("keymesh_daemon_applied_revision", () -> applied == null ? 0 : applied.revision());
        if (hostMode != null) {
            metrics.describe("keymesh_daemon_host_routes", "gauge",
                    "Peer underlay addresses routed through the tunnel (host mode; 0 when it is off)");
            metrics.gauge("keymesh_daemon_host_routes", hostMode::routes);
        }
        thread.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        if (links != null) {
            thread.scheduleWithFixedDelay(() -> {
                checkLink = true;
                if (latest.get() != null) {
                    submit(latest.get());
                }
            }, LINK_CHECK_EVERY.toMillis(), LINK_CHECK_EVERY.toMillis(), TimeUnit.MILLISECONDS);
        }
        thread.scheduleWithFixedDelay(() -> {
            known = null; // worker thread: the next run reads the device back in full
            if (latest.get() != null) {
                submit(latest.get());
            }
        }, FULL_READ_EVERY.toMillis(), FULL_READ_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Makes the device follow {@code snapshot} (and anything newer submitted before the run starts). */
    public void submit(MeshSnapshot snapshot) {
        latest.set(snapshot);
        if (queued.compareAndSet(false, true)) {
            try {
                thread.execute(this::run);
            } catch (RejectedExecutionException e) {
                queued.set(false); // closing: the device stays as it is
            }
        }
    }

    /** True when the device matches the newest snapshot submitted, which admits this host. */
    public boolean inSync() {
        MeshSnapshot newest = latest.get();
        return newest != null && newest == applied && !failing && !outsider;
    }

    /** The snapshot the device last matched, or null. */
    public MeshSnapshot applied() {
        return applied;
    }

    /** Reads the device on the worker thread (never concurrently with an apply). */
    public CompletableFuture<DeviceState> read() {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return device.read();
            } catch (java.io.IOException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, thread);
    }

    /** The peers keymesh owns on the device. */
    public CompletableFuture<Set<WireGuardPublicKey>> owned() {
        return CompletableFuture.supplyAsync(() -> owned, thread);
    }

    private void run() {
        queued.set(false);
        MeshSnapshot snapshot = latest.get();
        try {
            reconcile(snapshot);
            failing = false;
            backoff = MIN_BACKOFF;
        } catch (Exception e) {
            failing = true;
            known = null; // what happened on the device is unknown: read it back on the retry
            planned = null;
            plannedPlan = null;
            plannedSelf = null;
            desired = null;
            ensuredLink = null; // the interface may be gone: check it again on the retry
            if (hostMode != null) {
                hostMode.forget(); // and the routing policy may be half changed
            }
            metrics.inc("keymesh_daemon_apply_failures_total");
            LOG.warn("cannot bring WireGuard interface {} up to date ({}); reading it back and retrying in {} ms",
                    interfaceName, e.getMessage(), backoff.toMillis());
            thread.schedule(() -> submit(latest.get()), backoff.toMillis(), TimeUnit.MILLISECONDS);
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /**
     * Who this host is for {@code snapshot}. When its own record names the next WireGuard key, the
     * authority has committed the rotation: the key is promoted on disk here, before anything
     * uses it, so the device never runs a key that a crash could lose.
     */
    private Identity self(MeshSnapshot snapshot) {
        NodeRecord own = snapshot.records().get(node);
        WireGuardPrivateKey next = keys.next().orElse(null);
        if (own != null && next != null && own.identityKey().equals(identityKey) && own.wgPublicKey().equals(next.publicKey())) {
            keys.promote();
            metrics.inc("keymesh_daemon_key_promotions_total");
            LOG.info("the authority admitted WireGuard key {} at epoch {}: promoted on disk, now setting it on {}",
                    next.publicKey(), own.epoch(), interfaceName);
        }
        return new Identity(node, identityKey, keys.current().publicKey());
    }

    private void reconcile(MeshSnapshot snapshot) throws Exception {
        boolean fresh = known != null && System.nanoTime() - known.readAt() < FULL_READ_EVERY.toNanos();
        if (!fresh || checkLink) {
            checkLink = false;
            ensuredLink = null; // with the full read, check the interface again too (taken down, addresses removed, MTU)
            if (!fresh && hostMode != null) {
                hostMode.forget(); // and read the routing policy back
            }
        }
        Identity self = self(snapshot);
        DevicePlan.Advance advance = fresh && plannedPlan != null && self.equals(plannedSelf)
                ? plannedPlan.advance(planned, snapshot, self, known.table()::holder) : null;
        DevicePlan plan = advance != null ? advance.plan() : DevicePlan.of(snapshot, self, interfaceName, overrides);
        if (advance != null) {
            advance.applyTo(desired);
        } else {
            desired = new HashMap<>(plan.peers());
        }
        PeerUnderlay underlay = plan.member() ? null : PeerUnderlay.NONE; // computed when needed: it walks every record
        if (plan.link() != null && links != null && !Objects.equals(plan.link(), ensuredLink)) {
            underlay = PeerUnderlay.of(snapshot.records(), node);
            if (links.ensure(plan.link(), underlay.all()) && hostMode != null) {
                hostMode.forget(); // a new interface: the routes through the old one went with it
            }
            ensuredLink = plan.link();
        }
        if (plan.standing() == DevicePlan.Standing.OUTSIDER || (plan.standing() == DevicePlan.Standing.REVOKED && owned.isEmpty())) {
            // No verified record of this host (or revoked with nothing of ours left): the device stays as it is.
            outsider = plan.standing() == DevicePlan.Standing.OUTSIDER;
            if (hostMode != null && !hostMode.settings().enabled()) {
                hostMode.reconcile(PeerUnderlay.NONE, plan.listenPort()); // switched off: remove what is left, whatever else
            }
            applied = snapshot;
            listener.applied(snapshot, owned);
            return;
        }
        outsider = false;
        KnownDevice state = fresh ? known : readBack();
        // A new key of our own (a rotation, not a first start): every session must be renegotiated.
        boolean keyRotated = plan.member() && state.publicKey() != null && !self.wgPublicKey().equals(state.publicKey());
        Set<WireGuardPublicKey> active = keyRotated ? recentlyActive() : null;
        if (plan.member() && (!self.wgPublicKey().equals(state.publicKey()) || state.listenPort() != plan.listenPort())) {
            device.configure(keys.current(), plan.listenPort());
            metrics.inc("keymesh_daemon_device_settings_total");
            LOG.info("interface {}: private key for {} and listen port {} set", interfaceName, self.wgPublicKey(), plan.listenPort());
            state = new KnownDevice(self.wgPublicKey(), plan.listenPort(), state.firewallMark(), state.table(), state.readAt());
        }
        if (hostMode != null && hostMode.firewallMark(state.firewallMark()) != state.firewallMark()) {
            // Before any rule exists that could route WireGuard's own packets into its tunnel. When
            // host mode is switched off, the mark goes before the rules do; WireGuard's packets
            // still skip the tunnel meanwhile, through the exemption for its listen port.
            long mark = hostMode.firewallMark(state.firewallMark());
            device.setFirewallMark(mark);
            LOG.info("interface {}: firewall mark {}", interfaceName, mark == 0 ? "off" : "0x" + Long.toHexString(mark));
            state = new KnownDevice(state.publicKey(), state.listenPort(), mark, state.table(), state.readAt());
        }
        if (advance == null) {
            // A peer carrying the key of any verified record, revoked ones too, is keymesh's, even if
            // a crash right after adding it kept that from being saved.
            for (NodeRecord record : snapshot.records().values()) {
                if (state.peers().containsKey(record.wgPublicKey())) {
                    owned = owned.with(record.wgPublicKey());
                }
            }
        }
        PeerDelta delta = advance != null
                ? PeerDiff.computeFor(advance.scope(), desired, state.peers(), owned)
                : PeerDiff.compute(desired, state.peers(), owned);
        List<PeerConfig> replacements = replacements(delta, state.peers());
        if (!replacements.isEmpty() && active == null) {
            active = recentlyActive(); // read before the old peers, and their handshake times, are gone
        }
        if (!delta.isEmpty()) {
            long started = System.nanoTime();
            device.apply(delta);
            metrics.observe("keymesh_daemon_apply_seconds", (System.nanoTime() - started) / 1e9);
            metrics.add("keymesh_daemon_peer_changes_total", delta.adds().size(), "kind", "add");
            metrics.add("keymesh_daemon_peer_changes_total", delta.updates().size(), "kind", "update");
            metrics.add("keymesh_daemon_peer_changes_total", delta.removals().size(), "kind", "remove");
            LOG.info("interface {}: {} peer(s) added, {} updated, {} removed (revision {})", interfaceName,
                    delta.adds().size(), delta.updates().size(), delta.removals().size(), snapshot.revision());
            for (WireGuardPublicKey removed : delta.removals()) {
                owned = owned.without(removed);
            }
            state.table().apply(delta);
        }
        for (WireGuardPublicKey key : advance != null ? advance.scope() : desired.keySet()) {
            if (desired.containsKey(key)) {
                owned = owned.with(key);
            }
        }
        if (active != null) {
            nudge(keyRotated, replacements, active);
        }
        if (hostMode != null) {
            // after the peers: a route may only send traffic to a peer the device has
            hostMode.reconcile(underlay != null ? underlay
                    : hostMode.settings().enabled() ? PeerUnderlay.of(snapshot.records(), node) : PeerUnderlay.NONE,
                    plan.listenPort());
        }
        known = state;
        planned = snapshot;
        plannedPlan = plan;
        plannedSelf = self;
        applied = snapshot;
        listener.applied(snapshot, owned);
    }

    /** Peers with a session (a handshake in the last 3 minutes): the pairs that carry traffic now. */
    private Set<WireGuardPublicKey> recentlyActive() throws java.io.IOException {
        Instant since = Instant.now().minus(ACTIVE_SESSION);
        Set<WireGuardPublicKey> active = new HashSet<>();
        device.read().peers().forEach((key, status) -> {
            if (status.lastHandshake() != null && status.lastHandshake().isAfter(since)) {
                active.add(key);
            }
        });
        return active;
    }

    /**
     * The added peers that take over a removed peer's addresses (a peer's key rotation), each
     * paired with the key it replaces through {@link #replacedBy}.
     */
    private List<PeerConfig> replacements(PeerDelta delta, Map<WireGuardPublicKey, PeerConfig> before) {
        replacedBy.clear();
        if (delta.removals().isEmpty() || delta.adds().isEmpty()) {
            return List.of();
        }
        Map<IpPrefix, WireGuardPublicKey> removedAddresses = new HashMap<>();
        for (WireGuardPublicKey removed : delta.removals()) {
            PeerConfig old = before.get(removed);
            if (old != null) {
                old.allowedIps().forEach(prefix -> removedAddresses.put(prefix, removed));
            }
        }
        List<PeerConfig> replacements = new ArrayList<>();
        for (PeerConfig add : delta.adds()) {
            for (IpPrefix prefix : add.allowedIps()) {
                WireGuardPublicKey old = removedAddresses.get(prefix);
                if (old != null) {
                    replacements.add(add);
                    replacedBy.put(add.publicKey(), old);
                    break;
                }
            }
        }
        return replacements;
    }

    /**
     * After a rotation, starts the handshakes that traffic needs rather than waiting for traffic to
     * start them: with every active peer when our own key changed, and with each active peer's
     * new key when that peer's key changed (see {@code HandshakeNudge}).
     */
    private void nudge(boolean keyRotated, List<PeerConfig> replacements, Set<WireGuardPublicKey> active) {
        List<PeerConfig> targets = new ArrayList<>();
        if (keyRotated) {
            desired.values().stream().filter(p -> active.contains(p.publicKey())).forEach(targets::add);
        }
        replacements.stream().filter(p -> active.contains(replacedBy.get(p.publicKey())) && !targets.contains(p)).forEach(targets::add);
        if (!targets.isEmpty()) {
            device.nudge(targets);
            metrics.add("keymesh_daemon_handshake_nudges_total", targets.size());
        }
    }

    private KnownDevice readBack() throws java.io.IOException {
        DeviceState state = device.read();
        return new KnownDevice(state.publicKey(), state.listenPort(), state.firewallMark(), new PeerTable(state.configs()),
                System.nanoTime());
    }

    @Override
    public void close() {
        // Let a running apply finish: interrupting it could cut a peer's settings in half.
        thread.shutdown();
        try {
            if (!thread.awaitTermination(40, TimeUnit.SECONDS)) {
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
