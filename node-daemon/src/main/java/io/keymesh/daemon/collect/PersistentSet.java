package io.keymesh.daemon.collect;

import java.util.AbstractSet;
import java.util.Iterator;

/**
 * An immutable set sharing structure with the set it was made from ({@link PersistentMap}):
 * adding or removing one element costs O(log32 n), not a copy, so a thread can publish a new
 * version after every change.
 */
public final class PersistentSet<E> extends AbstractSet<E> {
    private static final PersistentSet<?> EMPTY = new PersistentSet<>(PersistentMap.empty());

    private final PersistentMap<E, E> elements;

    private PersistentSet(PersistentMap<E, E> elements) {
        this.elements = elements;
    }

    @SuppressWarnings("unchecked")
    public static <E> PersistentSet<E> empty() {
        return (PersistentSet<E>) EMPTY;
    }

    public static <E> PersistentSet<E> copyOf(java.util.Collection<? extends E> elements) {
        PersistentSet<E> result = empty();
        for (E element : elements) {
            result = result.with(element);
        }
        return result;
    }

    /** This set with {@code element}; this very set if it holds it already. */
    public PersistentSet<E> with(E element) {
        PersistentMap<E, E> next = elements.containsKey(element) ? elements : elements.with(element, element);
        return next == elements ? this : new PersistentSet<>(next);
    }

    /** This set without {@code element}; this very set if it does not hold it. */
    public PersistentSet<E> without(Object element) {
        PersistentMap<E, E> next = elements.without(element);
        return next == elements ? this : new PersistentSet<>(next);
    }

    @Override
    public boolean contains(Object o) {
        return elements.containsKey(o);
    }

    @Override
    public int size() {
        return elements.size();
    }

    @Override
    public Iterator<E> iterator() {
        return elements.keySet().iterator();
    }
}
