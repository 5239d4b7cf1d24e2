package io.keymesh.runtime.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;

/**
 * A small Prometheus registry: counters with labels, gauges read at scrape time, and
 * fixed-bucket histograms, rendered in the text exposition format.
 */
public final class Metrics {
    private record Family(String help, String type) {
    }

    private final Map<String, Family> families = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> counters = new ConcurrentHashMap<>();
    private final Map<String, DoubleSupplier> gauges = new ConcurrentHashMap<>();
    private final Map<String, Histogram> histograms = new ConcurrentHashMap<>();

    public void describe(String name, String type, String help) {
        families.put(name, new Family(help, type));
    }

    /** {@code labels} alternate name and value: {@code inc("x_total", "reason", "spent-token")}. */
    public void inc(String name, String... labels) {
        counters.computeIfAbsent(series(name, labels), k -> new LongAdder()).increment();
    }

    /** Adds {@code amount} (zero still makes the series appear, so a scrape shows it at 0). */
    public void add(String name, long amount, String... labels) {
        counters.computeIfAbsent(series(name, labels), k -> new LongAdder()).add(amount);
    }

    public void gauge(String name, DoubleSupplier value) {
        gauges.put(name, value);
    }

    public void observe(String name, double value) {
        histograms.computeIfAbsent(name, k -> new Histogram()).observe(value);
    }

    private static String series(String name, String... labels) {
        if (labels.length == 0) {
            return name;
        }
        StringBuilder out = new StringBuilder(name).append('{');
        for (int i = 0; i + 1 < labels.length; i += 2) {
            if (i > 0) {
                out.append(',');
            }
            out.append(labels[i]).append("=\"").append(labels[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
        }
        return out.append('}').toString();
    }

    public String render() {
        StringBuilder out = new StringBuilder();
        Map<String, String> byFamily = new TreeMap<>();
        counters.forEach((series, adder) -> byFamily.merge(family(series), series + " " + adder.sum() + "\n", String::concat));
        gauges.forEach((series, value) -> byFamily.merge(family(series), series + " " + format(value.getAsDouble()) + "\n", String::concat));
        histograms.forEach((name, h) -> byFamily.merge(name, h.render(name), String::concat));
        byFamily.forEach((name, lines) -> {
            Family f = families.get(name);
            if (f != null) {
                out.append("# HELP ").append(name).append(' ').append(f.help()).append('\n');
                out.append("# TYPE ").append(name).append(' ').append(f.type()).append('\n');
            }
            out.append(lines);
        });
        return out.toString();
    }

    private static String family(String series) {
        int brace = series.indexOf('{');
        return brace < 0 ? series : series.substring(0, brace);
    }

    private static String format(double value) {
        return value == Math.rint(value) && !Double.isInfinite(value) ? Long.toString((long) value) : Double.toString(value);
    }

    /** Seconds, with buckets from 1 ms to 10 s. */
    private static final class Histogram {
        private static final double[] BOUNDS = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
        private final LongAdder[] buckets = new LongAdder[BOUNDS.length];
        private final LongAdder count = new LongAdder();
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        void observe(double value) {
            for (int i = 0; i < BOUNDS.length; i++) {
                if (value <= BOUNDS[i]) {
                    buckets[i].increment();
                }
            }
            count.increment();
            sum.add(value);
        }

        String render(String name) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < BOUNDS.length; i++) {
                out.append(name).append("_bucket{le=\"").append(BOUNDS[i]).append("\"} ").append(buckets[i].sum()).append('\n');
            }
            out.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            out.append(name).append("_sum ").append(sum.sum()).append('\n');
            out.append(name).append("_count ").append(count.sum()).append('\n');
            return out.toString();
        }
    }
}
