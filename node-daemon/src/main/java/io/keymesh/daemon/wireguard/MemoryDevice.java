package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;

/** An in-memory device for tests and large simulations, with WireGuard's peer semantics ({@link PeerTable}). */
public final class MemoryDevice implements WireGuardDevice {
    private WireGuardPublicKey publicKey;
    private int listenPort;
    private long firewallMark;
    private final PeerTable peers = new PeerTable();
    private long mutations;

    @Override
    public synchronized DeviceState read() {
        Map<WireGuardPublicKey, PeerStatus> status = new LinkedHashMap<>();
        peers.peers().forEach((key, config) -> status.put(key, new PeerStatus(config, handshakes.get(key), 0, 0)));
        return new DeviceState(publicKey, listenPort, firewallMark, status);
    }

    @Override
    public synchronized void apply(PeerDelta delta) {
        if (!delta.isEmpty()) {
            peers.apply(delta);
            mutations++;
        }
    }

    @Override
    public synchronized void configure(WireGuardPrivateKey privateKey, int listenPort) {
        this.publicKey = privateKey.publicKey();
        this.listenPort = listenPort;
        mutations++;
    }

    @Override
    public synchronized void setFirewallMark(long mark) {
        this.firewallMark = mark;
        mutations++;
    }

    private final java.util.List<WireGuardPublicKey> nudged = new java.util.ArrayList<>();

    /** Records the nudge: an in-memory device has no tunnel to send through. */
    @Override
    public synchronized void nudge(java.util.Collection<PeerConfig> targets) {
        targets.forEach(p -> nudged.add(p.publicKey()));
    }

    /** The peers nudged so far, in order. */
    public synchronized java.util.List<WireGuardPublicKey> nudged() {
        return java.util.List.copyOf(nudged);
    }

    /** Sets a peer's last handshake, as if a session were up. */
    public synchronized void handshake(WireGuardPublicKey peer, java.time.Instant at) {
        handshakes.put(peer, at);
    }

    private final Map<WireGuardPublicKey, java.time.Instant> handshakes = new LinkedHashMap<>();

    /** How many changing calls the device has seen (a restart with nothing changed must make none). */
    public synchronized long mutations() {
        return mutations;
    }
}
