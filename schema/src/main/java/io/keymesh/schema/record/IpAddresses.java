package io.keymesh.schema.record;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * IP literals without DNS: parsing never resolves a name, and formatting is canonical (RFC 5952
 * for IPv6), because an address's text is part of etcd keys such as {@code ipam/<address>}.
 */
public final class IpAddresses {
    private static final Pattern IPV4 =
            Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

    private IpAddresses() {
    }

    public static InetAddress parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("IP address is missing");
        }
        boolean v4 = IPV4.matcher(text).matches();
        if (!v4 && !(text.contains(":") && IPV6_CHARS.matcher(text).matches())) {
            throw new IllegalArgumentException("'" + NodeName.printable(text) + "' is not an IP address");
        }
        try {
            // Safe: the text is a literal by the checks above, so no name lookup happens.
            InetAddress address = InetAddress.getByName(text);
            if (v4 != (address instanceof Inet4Address)) {
                throw new IllegalArgumentException("'" + text + "' is an IPv4-mapped address; write it as IPv4");
            }
            return address;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
    }

    public static String format(InetAddress address) {
        if (address instanceof Inet6Address) {
            return formatV6(address.getAddress());
        }
        return address.getHostAddress();
    }

    private static String formatV6(byte[] b) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLength = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int start = i;
            while (i < 8 && groups[i] == 0) {
                i++;
            }
            if (i - start > bestLength) {
                bestStart = start;
                bestLength = i - start;
            }
        }
        if (bestLength < 2) {
            bestStart = -1;
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(groups[i]));
        }
        return out.toString();
    }
}
