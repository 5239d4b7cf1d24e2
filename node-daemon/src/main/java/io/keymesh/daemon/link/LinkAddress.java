package io.keymesh.daemon.link;

import io.keymesh.schema.record.IpAddresses;
import java.net.InetAddress;

/**
 * An address on an interface with the length of its connected route, host bits and all
 * ({@code 198.18.0.5/16}), unlike an {@code IpPrefix}.
 */
public record LinkAddress(InetAddress address, int length) {
    public LinkAddress {
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length must be 0 to " + max + ", got " + length);
        }
    }

    @Override
    public String toString() {
        return IpAddresses.format(address) + "/" + length;
    }
}
