package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigInteger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IP prefix in canonical CIDR form ({@code 198.18.0.5/32}, {@code 2001:db8::/64}); host bits must be zero. */
public record IpPrefix(InetAddress address, int length) {
    private static final java.util.regex.Pattern LENGTH = java.util.regex.Pattern.compile("0|[1-9][0-9]{0,2}");

    public IpPrefix {
        Fields.present(address, "address");
        int max = address.getAddress().length * 8;
        if (length < 0 || length > max) {
            throw new IllegalArgumentException("prefix length must be 0 to " + max + ", got " + length);
        }
        BigInteger value = new BigInteger(1, address.getAddress());
        if (!value.equals(value.shiftRight(max - length).shiftLeft(max - length))) {
            throw new IllegalArgumentException(IpAddresses.format(address) + "/" + length + " has host bits set");
        }
    }

    @JsonCreator
    public static IpPrefix parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("IP prefix is missing");
        }
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + NodeName.printable(text) + "' is not in CIDR form (address/length)");
        }
        InetAddress address = IpAddresses.parse(text.substring(0, slash));
        String lengthText = text.substring(slash + 1);
        if (!LENGTH.matcher(lengthText).matches()) {
            throw new IllegalArgumentException("'" + NodeName.printable(text) + "' has no valid prefix length");
        }
        int length = Integer.parseInt(lengthText);
        return new IpPrefix(address, length);
    }

    /** The prefix of {@code length} bits that contains {@code address}: its host bits cleared. */
    public static IpPrefix containing(InetAddress address, int length) {
        int bits = address.getAddress().length * 8;
        if (length < 0 || length > bits) {
            throw new IllegalArgumentException("prefix length must be 0 to " + bits + ", got " + length);
        }
        BigInteger network = new BigInteger(1, address.getAddress()).shiftRight(bits - length).shiftLeft(bits - length);
        return new IpPrefix(toAddress(network, address.getAddress().length), length);
    }

    /** The prefix that holds exactly one address: /32 for IPv4, /128 for IPv6. */
    public static IpPrefix host(InetAddress address) {
        return new IpPrefix(address, address.getAddress().length * 8);
    }

    public boolean isIpv4() {
        return address instanceof Inet4Address;
    }

    public int bits() {
        return address.getAddress().length * 8;
    }

    public boolean contains(InetAddress candidate) {
        if (candidate.getAddress().length != address.getAddress().length) {
            return false;
        }
        int shift = bits() - length;
        return new BigInteger(1, candidate.getAddress()).shiftRight(shift)
                .equals(new BigInteger(1, address.getAddress()).shiftRight(shift));
    }

    /** The address at {@code offset} from the start of this prefix (offset 0 is the network address). */
    public InetAddress addressAt(BigInteger offset) {
        BigInteger size = BigInteger.ONE.shiftLeft(bits() - length);
        if (offset.signum() < 0 || offset.compareTo(size) >= 0) {
            throw new IllegalArgumentException("offset " + offset + " is outside " + this);
        }
        return toAddress(new BigInteger(1, address.getAddress()).add(offset), address.getAddress().length);
    }

    private static InetAddress toAddress(BigInteger value, int byteLength) {
        byte[] raw = value.toByteArray();
        byte[] fixed = new byte[byteLength];
        int copy = Math.min(raw.length, fixed.length);
        System.arraycopy(raw, raw.length - copy, fixed, fixed.length - copy, copy);
        try {
            return InetAddress.getByAddress(fixed);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4- or 16-byte address is always valid", e);
        }
    }

    @JsonValue
    @Override
    public String toString() {
        return IpAddresses.format(address) + "/" + length;
    }
}
