package io.keymesh.schema.record;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.net.Inet6Address;
import java.net.InetAddress;

/**
 * A WireGuard underlay endpoint: an IP literal and a UDP port, written {@code 198.51.100.7:51820}
 * or {@code [2001:db8::7]:51820}. Names are not allowed, so applying a record never waits on DNS.
 */
public record Endpoint(InetAddress address, int port) {
    private static final java.util.regex.Pattern PORT = java.util.regex.Pattern.compile("[1-9][0-9]{0,4}");

    public Endpoint {
        Fields.present(address, "endpoint address");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("endpoint port must be 1 to 65535, got " + port);
        }
    }

    @JsonCreator
    public static Endpoint parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("endpoint is missing");
        }
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf("]:");
            if (close < 0) {
                throw new IllegalArgumentException("'" + NodeName.printable(text) + "' is not [IPv6]:port");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + NodeName.printable(text)
                        + "' is not address:port (write IPv6 as [address]:port)");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        if (!PORT.matcher(port).matches()) {
            throw new IllegalArgumentException("'" + NodeName.printable(text) + "' has no valid port");
        }
        InetAddress address = IpAddresses.parse(host);
        if (text.startsWith("[") != (address instanceof Inet6Address)) {
            throw new IllegalArgumentException("'" + NodeName.printable(text) + "': brackets are for IPv6 addresses only");
        }
        return new Endpoint(address, Integer.parseInt(port));
    }

    @JsonValue
    @Override
    public String toString() {
        String host = IpAddresses.format(address);
        return (address instanceof Inet6Address ? "[" + host + "]" : host) + ":" + port;
    }
}
