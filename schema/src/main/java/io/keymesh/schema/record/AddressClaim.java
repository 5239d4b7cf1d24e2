package io.keymesh.schema.record;

import java.net.InetAddress;

/** At {@code ipam/<address>}: this overlay address belongs to this node. Uniqueness comes from the key. */
public record AddressClaim(String address, String node) {
    public AddressClaim {
        InetAddress parsed = IpAddresses.parse(Fields.present(address, "address"));
        if (!IpAddresses.format(parsed).equals(address)) {
            throw new IllegalArgumentException("address '" + address + "' is not in canonical form: " + IpAddresses.format(parsed));
        }
        NodeName.require(node);
    }

    public static AddressClaim of(InetAddress address, String node) {
        return new AddressClaim(IpAddresses.format(address), node);
    }
}
