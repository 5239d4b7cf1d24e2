package io.keymesh.daemon.host;

import io.keymesh.daemon.exec.Exec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * TCP MSS clamping for forwarded traffic that leaves through the WireGuard interface: an nft
 * table of keymesh's own, {@code inet keymesh}, replaced as a whole and deleted as a whole, so
 * nothing else in the ruleset is touched.
 *
 * <p>Sockets on this host need no clamp: the kernel takes their MSS from the route, which in host
 * mode is the WireGuard interface and its MTU. Forwarded connections (containers, VMs or routed
 * networks masqueraded to the host's address) were negotiated by stacks that only know their own
 * link's MTU; their SYNs are clamped here to the tunnel's path MTU, on both ends of the tunnel,
 * so neither side sends segments the tunnel would have to fragment or drop.
 */
public final class MssClamp {
    static final String TABLE = "keymesh";

    /** The nft script that (re)creates the table: atomic, whether or not it exists already. */
    static String script(String device) {
        return "table inet " + TABLE + "\n"
                + "delete table inet " + TABLE + "\n"
                + "table inet " + TABLE + " {\n"
                + "  chain forward-mss {\n"
                + "    type filter hook forward priority mangle; policy accept;\n"
                + "    oifname \"" + device + "\" tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu\n"
                + "  }\n"
                + "}\n";
    }

    public void install(String device) throws IOException {
        Exec.Result result = Exec.run(List.of("nft", "-f", "-"), script(device).getBytes(StandardCharsets.US_ASCII));
        if (!result.ok()) {
            throw new IOException("cannot install the MSS clamp (nft table inet " + TABLE + "): " + result.stderr().strip());
        }
    }

    /** Deletes the table if it is there; without nft there can be none. */
    public void remove() throws IOException {
        if (!available()) {
            return;
        }
        Exec.Result tables = Exec.run(List.of("nft", "list", "tables", "inet"), null);
        if (tables.ok() && tables.stdout().lines().anyMatch(l -> l.strip().equals("table inet " + TABLE))) {
            Exec.check("nft", "delete", "table", "inet", TABLE);
        }
    }

    public static boolean available() {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
            if (java.nio.file.Files.isExecutable(java.nio.file.Path.of(dir, "nft"))) {
                return true;
            }
        }
        return false;
    }
}
