package io.keymesh.it.testbed;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Owns a test's {@link Testbed}: {@code @RegisterExtension final TestbedExtension testbed = new
 * TestbedExtension();}, then {@code testbed.start(n)} in the test; closed after it, passed or failed.
 */
public final class TestbedExtension implements AfterEachCallback {
    private Testbed bed;

    public Testbed start(int authorities) throws Exception {
        if (bed != null) {
            throw new IllegalStateException("one testbed per test");
        }
        bed = Testbed.start(authorities);
        return bed;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (bed != null) {
            bed.close();
            bed = null;
        }
    }
}
