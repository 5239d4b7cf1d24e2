package io.keymesh.daemon.link;

import java.util.List;

/**
 * The network interface as keymesh wants it: its name, the node's overlay addresses (with the
 * overlay's prefix length, so the kernel routes the whole overlay to it), and its MTU.
 *
 * @param mtu null for the underlay MTU minus 80 (WireGuard's overhead over IPv6)
 */
public record LinkSpec(String name, List<LinkAddress> addresses, Integer mtu) {
    public LinkSpec {
        addresses = List.copyOf(addresses);
    }
}
