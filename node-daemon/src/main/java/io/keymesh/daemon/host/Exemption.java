package io.keymesh.daemon.host;

import io.keymesh.schema.record.IpPrefix;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Traffic that host mode leaves on the underlay, unencrypted, so that a node can always reach
 * what it needs to catch up (etcd above all) even while its peers hold a stale key for it.
 * Written {@code PROTO/PORTS[:DIRECTION]}: {@code tcp/2379-2380}, {@code tcp/6443:out}.
 *
 * @param direction   {@link Direction#OUT}: connections this host opens to the port (matched on the
 *                    destination port); {@link Direction#IN}: this host's own service on the port
 *                    answering (matched on the source port); {@link Direction#BOTH}: either
 * @param destination only toward this prefix, or null for any peer
 */
public record Exemption(Protocol protocol, int fromPort, int toPort, Direction direction, IpPrefix destination) {
    // before DEFAULTS, which parses with it
    private static final Pattern FORM = Pattern.compile("(tcp|udp)/([0-9]{1,5})(?:-([0-9]{1,5}))?(?::(in|out|both))?");

    /** etcd's client and peer ports and the Kubernetes API, both ways. */
    public static final List<Exemption> DEFAULTS = List.of(parse("tcp/2379-2380"), parse("tcp/6443"));

    public enum Protocol {
        TCP, UDP;

        String ipName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public enum Direction {
        IN, OUT, BOTH
    }

    public Exemption {
        if (protocol == null || direction == null) {
            throw new IllegalArgumentException("an exemption needs a protocol and a direction");
        }
        if (fromPort < 1 || toPort > 65535 || fromPort > toPort) {
            throw new IllegalArgumentException("exempt ports must be 1 to 65535, low to high; got " + fromPort + "-" + toPort);
        }
    }

    /** Parses {@code tcp/2379-2380}, {@code udp/53:out}; the one-line error names the expected form. */
    public static Exemption parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("host-traffic exemption '" + text + "' is not PROTO/PORT[-PORT][:in|out|both],"
                    + " e.g. tcp/2379-2380 or tcp/6443:out");
        }
        int from = Integer.parseInt(m.group(2));
        int to = m.group(3) == null ? from : Integer.parseInt(m.group(3));
        Direction direction = m.group(4) == null ? Direction.BOTH : Direction.valueOf(m.group(4).toUpperCase(Locale.ROOT));
        return new Exemption(Protocol.valueOf(m.group(1).toUpperCase(Locale.ROOT)), from, to, direction, null);
    }

    /** Connections to one address and port: this daemon's own etcd endpoints. */
    public static Exemption toService(IpPrefix destination, int port) {
        return new Exemption(Protocol.TCP, port, port, Direction.OUT, destination);
    }

    public boolean covers(Direction wanted) {
        return direction == Direction.BOTH || direction == wanted;
    }

    @Override
    public String toString() {
        return protocol.ipName() + "/" + fromPort + (toPort == fromPort ? "" : "-" + toPort) + ":" + direction.name().toLowerCase(Locale.ROOT)
                + (destination == null ? "" : " to " + destination);
    }
}
