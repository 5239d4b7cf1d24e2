package io.keymesh.daemon.reconcile;

/**
 * What the host's configuration sets over the mesh configuration; each null means "as the mesh
 * config says" (or the built-in default).
 */
public record DeviceOverrides(Integer listenPort, Integer natKeepaliveSeconds, Integer mtu) {
    public static final DeviceOverrides NONE = new DeviceOverrides(null, null, null);
    public static final int DEFAULT_LISTEN_PORT = 51820;
    public static final int DEFAULT_NAT_KEEPALIVE_SECONDS = 25;
}
