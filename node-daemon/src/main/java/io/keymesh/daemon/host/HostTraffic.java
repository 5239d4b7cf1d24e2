package io.keymesh.daemon.host;

import java.util.List;

/**
 * How this host runs host mode. With {@code enabled}, traffic from this host to every peer's
 * underlay address goes through the WireGuard interface, except WireGuard's own packets (which
 * carry {@code firewallMark}) and the {@code exemptions}.
 *
 * @param table        the routing table holding one route per peer underlay address
 * @param rulePriority the first of three consecutive rule priorities keymesh uses: exemptions,
 *                     the tunnel rule, and the rule exempt packets jump to
 * @param mssClamp     clamp the MSS of forwarded TCP entering or leaving the tunnel (needs nft)
 */
public record HostTraffic(boolean enabled, List<Exemption> exemptions, long firewallMark, int table, int rulePriority, boolean mssClamp) {
    public static final long DEFAULT_FIREWALL_MARK = 0x10000000L;
    public static final int DEFAULT_TABLE = 19277;
    public static final int DEFAULT_RULE_PRIORITY = 32700;
    public static final HostTraffic OFF = new HostTraffic(false, Exemption.DEFAULTS, DEFAULT_FIREWALL_MARK, DEFAULT_TABLE,
            DEFAULT_RULE_PRIORITY, true);

    public HostTraffic {
        exemptions = List.copyOf(exemptions);
        if (firewallMark <= 0 || firewallMark > 0xffffffffL) {
            throw new IllegalArgumentException("firewall mark must be 0x1 to 0xffffffff, got 0x" + Long.toHexString(firewallMark));
        }
        // 253 to 255 are the kernel's default, main and local tables; 0 is "unspecified"
        if (table < 1 || table >= 253 && table <= 255) {
            throw new IllegalArgumentException("route table must be 1 to 2147483647 and not 253, 254 or 255 (default, main, local); got "
                    + table);
        }
        if (rulePriority < 1 || rulePriority > 32763) {
            throw new IllegalArgumentException("rule priority must be 1 to 32763 (keymesh uses it and the next two, before main at 32766);"
                    + " got " + rulePriority);
        }
    }
}
