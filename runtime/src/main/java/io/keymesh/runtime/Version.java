package io.keymesh.runtime;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (set by the build), or "dev" when run from classes. */
public final class Version implements IVersionProvider {
    public static String current() {
        String version = Version.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    @Override
    public String[] getVersion() {
        return new String[] {"keymesh " + current()};
    }
}
