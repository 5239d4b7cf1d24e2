package io.keymesh.testing.etcd;

/** No etcd could be had for the tests; the message says what to install or set. */
public final class EtcdUnavailableException extends RuntimeException {
    public EtcdUnavailableException(String message) {
        super(message);
    }
}
