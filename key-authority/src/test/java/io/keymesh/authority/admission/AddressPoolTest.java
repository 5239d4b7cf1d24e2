package io.keymesh.authority.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keymesh.schema.record.IpAddresses;
import io.keymesh.schema.record.IpPrefix;
import java.net.InetAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AddressPoolTest {

    private static List<String> take(AddressPool pool, Set<String> claimed) {
        List<String> picked = pool.propose(claimed::contains).orElseThrow().stream().map(IpAddresses::format).toList();
        claimed.addAll(picked);
        return picked;
    }

    @Test
    void skipsTheNetworkAndBroadcastAddressesAndEndsWhenFull() {
        AddressPool pool = new AddressPool(List.of(IpPrefix.parse("198.18.0.0/30")));
        Set<String> claimed = new HashSet<>();
        assertEquals(List.of("198.18.0.1"), take(pool, claimed));
        assertEquals(List.of("198.18.0.2"), take(pool, claimed));
        assertTrue(pool.propose(claimed::contains).isEmpty(), "a /30 has two usable addresses");
    }

    @Test
    void dualStackGivesOneAddressPerFamily() {
        AddressPool pool = new AddressPool(List.of(IpPrefix.parse("198.18.0.0/24"), IpPrefix.parse("2001:db8:1::/64")));
        assertEquals(List.of("198.18.0.1", "2001:db8:1::1"), take(pool, new HashSet<>()));
    }

    @Test
    void claimedAddressesAreSkippedAndReleasedOnesReused() {
        AddressPool pool = new AddressPool(List.of(IpPrefix.parse("198.18.0.0/29")));
        Set<String> claimed = new HashSet<>(Set.of("198.18.0.1", "198.18.0.2"));
        assertEquals(List.of("198.18.0.3"), take(pool, claimed));
        claimed.remove("198.18.0.1");
        // .4, .5, .6, then past the end of the /29 back to the released .1
        for (int i = 0; i < 4; i++) {
            take(pool, claimed);
        }
        assertTrue(claimed.contains("198.18.0.1"), "the cursor wraps around to a released address: " + claimed);
    }

    @Test
    void manyAllocationsAreDistinct() {
        AddressPool pool = new AddressPool(List.of(IpPrefix.parse("198.18.0.0/15")));
        Set<String> claimed = new HashSet<>();
        for (int i = 0; i < 5000; i++) {
            take(pool, claimed);
        }
        assertEquals(5000, claimed.size());
        InetAddress first = IpAddresses.parse("198.18.0.1");
        assertTrue(claimed.contains(IpAddresses.format(first)));
    }

    @Test
    void twoCidrsOfOneFamilyAreRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> new AddressPool(List.of(IpPrefix.parse("198.18.0.0/24"), IpPrefix.parse("198.19.0.0/24"))));
    }
}
