package io.keymesh.schema.record;

/** A mesh is named like a node (a DNS label), so one etcd can hold several meshes under their own prefixes. */
public final class MeshName {
    private MeshName() {
    }

    public static String require(String mesh) {
        if (mesh == null) {
            throw new IllegalArgumentException("mesh name is missing");
        }
        if (!NodeName.isValid(mesh)) {
            throw new IllegalArgumentException("invalid mesh name '" + NodeName.printable(mesh)
                    + "': use 1 to 63 lower-case letters, digits or '-'");
        }
        return mesh;
    }
}
