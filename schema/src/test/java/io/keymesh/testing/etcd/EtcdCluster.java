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

    boolean supportsMemberFaults();

    /** SIGTERM, then wait for the member to exit. */
    void stopMember(int index);

    /** SIGKILL: the member gets no chance to clean up. */
    void killMember(int index);

    /** Starts a stopped or killed member again on its old data directory and ports, and waits until it is healthy. */
    void startMember(int index);

    /** SIGSTOP / SIGCONT: the member freezes with its sockets open, like a paused VM. */
    void pauseMember(int index);

    void resumeMember(int index);

    boolean isRunning(int index);

    @Override
    void close();
}
