package io.keymesh.authority.admission;

import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.math.BigInteger;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Overlay addresses: one per configured CIDR (so a dual-stack mesh gives each node an IPv4 and
 * an IPv6 address). Uniqueness comes from the {@code ipam/<address>} keys, created only if
 * absent in the admitting transaction; this class only proposes the next free candidates. A
 * cursor per CIDR keeps a burst of joins from rescanning the claimed range each time. Never
 * proposes the network address, nor the broadcast address of an IPv4 prefix shorter than /31.
 */
public final class AddressPool {
    /** How far one allocation scans before calling a pool exhausted; bounds the work per join. */
    static final long MAX_SCAN = 1L << 20;

    private final List<IpPrefix> cidrs;
    private final BigInteger[] cursors;

    public AddressPool(List<IpPrefix> cidrs) {
        if (cidrs.isEmpty()) {
            throw new IllegalArgumentException("at least one overlay CIDR is needed");
        }
        if (cidrs.stream().filter(IpPrefix::isIpv4).count() > 1 || cidrs.stream().filter(c -> !c.isIpv4()).count() > 1) {
            throw new IllegalArgumentException("configure at most one IPv4 and one IPv6 overlay CIDR");
        }
        this.cidrs = List.copyOf(cidrs);
        this.cursors = new BigInteger[cidrs.size()];
        for (int i = 0; i < cursors.length; i++) {
            cursors[i] = BigInteger.ONE;
        }
    }

    public List<IpPrefix> cidrs() {
        return cidrs;
    }

    /** One free address in each CIDR, or empty when any CIDR has none left. */
    public Optional<List<InetAddress>> propose(Predicate<String> isClaimed) {
        List<InetAddress> picked = new ArrayList<>(cidrs.size());
        for (int i = 0; i < cidrs.size(); i++) {
            Optional<InetAddress> address = next(i, isClaimed);
            if (address.isEmpty()) {
                return Optional.empty();
            }
            picked.add(address.get());
        }
        return Optional.of(picked);
    }

    private Optional<InetAddress> next(int index, Predicate<String> isClaimed) {
        IpPrefix cidr = cidrs.get(index);
        BigInteger size = BigInteger.ONE.shiftLeft(cidr.bits() - cidr.length());
        BigInteger first = size.compareTo(BigInteger.TWO) <= 0 ? BigInteger.ZERO : BigInteger.ONE;
        BigInteger end = cidr.isIpv4() && size.compareTo(BigInteger.TWO) > 0 ? size.subtract(BigInteger.ONE) : size;
        BigInteger usable = end.subtract(first);
        long scan = usable.min(BigInteger.valueOf(MAX_SCAN)).longValueExact();
        BigInteger candidate = cursors[index].max(first);
        for (long tried = 0; tried < scan; tried++) {
            if (candidate.compareTo(end) >= 0) {
                candidate = first;
            }
            InetAddress address = cidr.addressAt(candidate);
            candidate = candidate.add(BigInteger.ONE);
            if (!isClaimed.test(IpAddresses.format(address))) {
                cursors[index] = candidate;
                return Optional.of(address);
            }
        }
        return Optional.empty();
    }
}
