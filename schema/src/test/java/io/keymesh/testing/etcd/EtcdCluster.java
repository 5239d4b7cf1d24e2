package io.keymesh.testing.etcd;

import java.net.URI;
import java.util.List;

/**
 * A running etcd for tests, a single member or a cluster. Member faults (stop, kill, restart)
 * are only offered where the fixture owns the member processes; see {@link #supportsMemberFaults()}.
 */
public interface EtcdCluster extends AutoCloseable {

    /** Client URLs of all members, in member order. */
    List<URI> clientEndpoints();

    int size();

    /** How this cluster was obtained, for test logs ("local etcd binary, 3 members", ...). */
    String description();

    /** Only clusters whose member processes the fixture owns offer the faults below. */
    default boolean supportsMemberFaults() {
        return false;
    }

    /** SIGTERM, then wait for the member to exit. */
    default void stopMember(int index) {
        throw noMemberFaults();
    }

    /** SIGKILL: the member gets no chance to clean up. */
    default void killMember(int index) {
        throw noMemberFaults();
    }

    /**
     * Starts a stopped or killed member again on its old data directory and ports; waits until it
     * is healthy when a quorum is up (a member cannot report healthy without one).
     */
    default void startMember(int index) {
        throw noMemberFaults();
    }

    /** SIGSTOP: the member freezes with its sockets open, like a paused VM. */
    default void pauseMember(int index) {
        throw noMemberFaults();
    }

    /** SIGCONT after {@link #pauseMember}. */
    default void resumeMember(int index) {
        throw noMemberFaults();
    }

    default boolean isRunning(int index) {
        return true;
    }

    private UnsupportedOperationException noMemberFaults() {
        return new UnsupportedOperationException(description()
                + " offers no member faults: they need the local etcd binary (KEYMESH_TEST_ETCD=binary, ETCD_ENDPOINTS unset)");
    }

    @Override
    void close();
}
