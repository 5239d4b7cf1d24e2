package io.keymesh.daemon.collect;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An immutable map that shares structure with the map it was made from (a hash array mapped
 * trie): {@link #with} and {@link #without} cost O(log32 n), not a copy of n entries, and
 * {@link #diff} visits only the branches two related maps do not share. That is what lets a
 * daemon hand a new snapshot of thousands of verified records to its device worker per change,
 * and the worker find the one record that changed, at a cost that does not grow with the mesh.
 * Keys and values must not be null. Iteration order is unspecified.
 */
public final class PersistentMap<K, V> extends AbstractMap<K, V> {
    /** What differs between two maps, per key: {@code before} or {@code after} is null where the key is absent. */
    public interface Difference<K, V> {
        void changed(K key, V before, V after);
    }

    private static final int BITS = 5;
    private static final PersistentMap<?, ?> EMPTY = new PersistentMap<>(new Branch(0, new Object[0]), 0);

    /** A key and its value, with the key's hash. */
    private record Leaf(Object key, Object value, int hash) {
    }

    /** Children by the next 5 bits of the hash, present where {@code bitmap} has a bit; each a Leaf, Branch or Collision. */
    private record Branch(int bitmap, Object[] children) {
        Object child(int bit) {
            return (bitmap & bit) == 0 ? null : children[Integer.bitCount(bitmap & (bit - 1))];
        }

        Branch set(int bit, Object child) {
            int index = Integer.bitCount(bitmap & (bit - 1));
            if ((bitmap & bit) != 0) {
                Object[] copy = children.clone();
                copy[index] = child;
                return new Branch(bitmap, copy);
            }
            Object[] grown = new Object[children.length + 1];
            System.arraycopy(children, 0, grown, 0, index);
            grown[index] = child;
            System.arraycopy(children, index, grown, index + 1, children.length - index);
            return new Branch(bitmap | bit, grown);
        }

        Branch clear(int bit) {
            int index = Integer.bitCount(bitmap & (bit - 1));
            Object[] shrunk = new Object[children.length - 1];
            System.arraycopy(children, 0, shrunk, 0, index);
            System.arraycopy(children, index + 1, shrunk, index, children.length - index - 1);
            return new Branch(bitmap & ~bit, shrunk);
        }
    }

    /** Leaves whose keys have one and the same 32-bit hash. */
    private record Collision(int hash, Leaf[] leaves) {
    }

    private final Branch root;
    private final int size;

    private PersistentMap(Branch root, int size) {
        this.root = root;
        this.size = size;
    }

    @SuppressWarnings("unchecked")
    public static <K, V> PersistentMap<K, V> empty() {
        return (PersistentMap<K, V>) EMPTY;
    }

    /** The map itself if it is one already, else a copy. */
    @SuppressWarnings("unchecked")
    public static <K, V> PersistentMap<K, V> copyOf(Map<? extends K, ? extends V> map) {
        if (map instanceof PersistentMap<?, ?> persistent) {
            return (PersistentMap<K, V>) persistent;
        }
        PersistentMap<K, V> result = empty();
        for (Map.Entry<? extends K, ? extends V> entry : map.entrySet()) {
            result = result.with(entry.getKey(), entry.getValue());
        }
        return result;
    }

    private static int hash(Object key) {
        int h = key.hashCode();
        return h ^ (h >>> 16);
    }

    /** Five bits of the hash per level; at shift 30 the last two. Two different hashes part by then (deeper is a Collision). */
    private static int bit(int hash, int shift) {
        assert shift <= 30 : shift;
        return 1 << ((hash >>> shift) & 31);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean containsKey(Object key) {
        return get(key) != null;
    }

    @Override
    @SuppressWarnings("unchecked")
    public V get(Object key) {
        if (key == null) {
            return null;
        }
        int hash = hash(key);
        Object node = root;
        for (int shift = 0; ; shift += BITS) {
            if (node instanceof Branch branch) {
                node = branch.child(bit(hash, shift));
            } else if (node instanceof Leaf leaf) {
                return leaf.hash() == hash && leaf.key().equals(key) ? (V) leaf.value() : null;
            } else if (node instanceof Collision collision) {
                for (Leaf leaf : collision.leaves()) {
                    if (leaf.key().equals(key)) {
                        return (V) leaf.value();
                    }
                }
                return null;
            } else {
                return null;
            }
        }
    }

    /** This map with {@code key} mapped to {@code value}; this very map if it maps it to that object already. */
    public PersistentMap<K, V> with(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Leaf leaf = new Leaf(key, value, hash(key));
        boolean[] added = {false};
        Object newRoot = put(root, 0, leaf, added);
        return newRoot == root ? this : new PersistentMap<>((Branch) newRoot, added[0] ? size + 1 : size);
    }

    /** This map without {@code key}; this very map if it has no such key. */
    public PersistentMap<K, V> without(Object key) {
        if (key == null || !containsKey(key)) {
            return this;
        }
        Object newRoot = remove(root, 0, key, hash(key));
        return new PersistentMap<>(newRoot == null ? (Branch) EMPTY.root : (Branch) newRoot, size - 1);
    }

    private static Object put(Object node, int shift, Leaf leaf, boolean[] added) {
        if (node instanceof Branch branch) {
            int bit = bit(leaf.hash(), shift);
            Object child = branch.child(bit);
            Object newChild = child == null ? leaf : put(child, shift + BITS, leaf, added);
            if (child == null) {
                added[0] = true;
            }
            return newChild == child ? branch : branch.set(bit, newChild);
        }
        if (node instanceof Leaf existing) {
            if (existing.hash() == leaf.hash() && existing.key().equals(leaf.key())) {
                return existing.value() == leaf.value() ? existing : leaf;
            }
            added[0] = true;
            return merge(existing, leaf, shift);
        }
        Collision collision = (Collision) node;
        if (collision.hash() != leaf.hash()) {
            added[0] = true;
            return merge(collision, collision.hash(), leaf, shift);
        }
        Leaf[] leaves = collision.leaves();
        for (int i = 0; i < leaves.length; i++) {
            if (leaves[i].key().equals(leaf.key())) {
                if (leaves[i].value() == leaf.value()) {
                    return collision;
                }
                Leaf[] copy = leaves.clone();
                copy[i] = leaf;
                return new Collision(collision.hash(), copy);
            }
        }
        added[0] = true;
        Leaf[] grown = java.util.Arrays.copyOf(leaves, leaves.length + 1);
        grown[leaves.length] = leaf;
        return new Collision(collision.hash(), grown);
    }

    /** A subtree at {@code shift} holding both: a collision when the hashes are equal, else branches down to where they part. */
    private static Object merge(Leaf a, Leaf b, int shift) {
        if (a.hash() == b.hash()) {
            return new Collision(a.hash(), new Leaf[] {a, b});
        }
        return merge(a, a.hash(), b, shift);
    }

    private static Object merge(Object existing, int existingHash, Leaf leaf, int shift) {
        int bitA = bit(existingHash, shift);
        int bitB = bit(leaf.hash(), shift);
        if (bitA == bitB) {
            return new Branch(bitA, new Object[] {merge(existing, existingHash, leaf, shift + BITS)});
        }
        // Children go in the order of their bit (1 << 31 is negative: compare unsigned).
        return Integer.compareUnsigned(bitA, bitB) < 0
                ? new Branch(bitA | bitB, new Object[] {existing, leaf})
                : new Branch(bitA | bitB, new Object[] {leaf, existing});
    }

    /** The subtree without {@code key} (which it holds), or null when nothing is left. */
    private static Object remove(Object node, int shift, Object key, int hash) {
        if (node instanceof Branch branch) {
            int bit = bit(hash, shift);
            Object newChild = remove(branch.child(bit), shift + BITS, key, hash);
            Branch left = newChild == null ? branch.clear(bit) : branch.set(bit, newChild);
            if (left.bitmap() == 0) {
                return null;
            }
            // A lone leaf moves up its own hash path, so equal maps tend to have equal shapes and diffs stay short.
            boolean lone = shift > 0 && left.children().length == 1 && !(left.children()[0] instanceof Branch);
            return lone ? left.children()[0] : left;
        }
        if (node instanceof Leaf) {
            return null;
        }
        Collision collision = (Collision) node;
        List<Leaf> kept = new ArrayList<>();
        for (Leaf leaf : collision.leaves()) {
            if (!leaf.key().equals(key)) {
                kept.add(leaf);
            }
        }
        return kept.size() == 1 ? kept.get(0) : new Collision(hash, kept.toArray(Leaf[]::new));
    }

    /**
     * Reports every key whose value is not the same object in {@code before} and {@code after}
     * (added, removed or replaced), skipping whatever the two maps share: for a map made from the
     * other by k changes, the cost is about k paths, not the size of either map.
     */
    @SuppressWarnings("unchecked")
    public static <K, V> void diff(PersistentMap<K, V> before, PersistentMap<K, V> after, Difference<K, V> difference) {
        diff(before.root, after.root, (Difference<Object, Object>) difference);
    }

    private static void diff(Object a, Object b, Difference<Object, Object> difference) {
        if (a == b) {
            return;
        }
        if (a instanceof Branch x && b instanceof Branch y) {
            for (int bits = x.bitmap() | y.bitmap(); bits != 0; bits &= bits - 1) {
                int bit = Integer.lowestOneBit(bits);
                diff(x.child(bit), y.child(bit), difference);
            }
            return;
        }
        if (a instanceof Leaf x && b instanceof Leaf y && x.key().equals(y.key())) {
            if (x.value() != y.value()) {
                difference.changed(x.key(), x.value(), y.value()); // one value replaced: the common case
            }
            return;
        }
        // Different shapes: small subtrees by now, compared entry by entry.
        Map<Object, Object> left = new java.util.HashMap<>();
        leaves(a, leaf -> left.put(leaf.key(), leaf.value()));
        leaves(b, leaf -> {
            Object old = left.remove(leaf.key());
            if (old != leaf.value()) {
                difference.changed(leaf.key(), old, leaf.value());
            }
        });
        left.forEach((key, value) -> difference.changed(key, value, null));
    }

    private static void leaves(Object node, java.util.function.Consumer<Leaf> visit) {
        if (node instanceof Branch branch) {
            for (Object child : branch.children()) {
                leaves(child, visit);
            }
        } else if (node instanceof Leaf leaf) {
            visit.accept(leaf);
        } else if (node instanceof Collision collision) {
            for (Leaf leaf : collision.leaves()) {
                visit.accept(leaf);
            }
        }
    }

    @Override
    public Set<Map.Entry<K, V>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            @SuppressWarnings("unchecked")
            public Iterator<Map.Entry<K, V>> iterator() {
                List<Map.Entry<K, V>> entries = new ArrayList<>(size);
                leaves(root, leaf -> entries.add(Map.entry((K) leaf.key(), (V) leaf.value())));
                return java.util.Collections.unmodifiableList(entries).iterator();
            }
        };
    }

    @Override
    @SuppressWarnings("unchecked")
    public void forEach(java.util.function.BiConsumer<? super K, ? super V> action) {
        leaves(root, leaf -> action.accept((K) leaf.key(), (V) leaf.value()));
    }
}
