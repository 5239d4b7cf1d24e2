package io.keymesh.daemon.wireguard;

import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import java.util.LinkedHashMap;
import java.util.Map;

/** An in-memory device for tests and large simulations, with WireGuard's peer semantics ({@link PeerTable}). */
public final class MemoryDevice implements WireGuardDevice {
    private WireGuardPublicKey publicKey;
    private int listenPort;
    private Map<WireGuardPublicKey, PeerConfig> peers = new LinkedHashMap<>();
    private long mutations;

    @Override
    public synchronized DeviceState read() {
        Map<WireGuardPublicKey, PeerStatus> status = new LinkedHashMap<>();
        peers.forEach((key, config) -> status.put(key, new PeerStatus(config, null, 0, 0)));
        return new DeviceState(publicKey, listenPort, status);
    }

    @Override
    public synchronized void apply(PeerDelta delta) {
        if (!delta.isEmpty()) {
            peers = PeerTable.apply(peers, delta);
            mutations++;
        }
    }

    @Override
    public synchronized void configure(WireGuardPrivateKey privateKey, int listenPort) {
        this.publicKey = privateKey.publicKey();
        this.listenPort = listenPort;
        mutations++;
    }

    /** How many changing calls the device has seen (a restart with nothing changed must make none). */
    public synchronized long mutations() {
        return mutations;
    }
}
