package io.keymesh.it;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Convergence latency against fleet size, one line per design and percentile, as a small SVG. */
final class FleetPlot {
    record Point(String design, int nodes, double p50Millis, double p99Millis) {
    }

    private static final int WIDTH = 700;
    private static final int HEIGHT = 400;
    private static final int LEFT = 70;
    private static final int RIGHT = 220;
    private static final int TOP = 30;
    private static final int BOTTOM = 50;
    private static final Map<String, String> COLORS = Map.of("keymesh", "#1f77b4", "full-replace", "#d62728",
            "keymesh-shared", "#17becf", "full-replace-shared", "#ff7f0e");

    private FleetPlot() {
    }

    /** Redraws the plot from a results file: {@code FleetPlot fleet.json out.svg}. */
    public static void main(String[] args) throws Exception {
        List<Point> points = new java.util.ArrayList<>();
        for (var run : io.keymesh.schema.json.Json.mapper().readTree(java.nio.file.Files.readString(java.nio.file.Path.of(args[0])))) {
            if (run.has("p50Millis")) {
                String series = run.path("endpoints").asText("distinct").equals("shared")
                        ? run.get("design").asText() + "-shared" : run.get("design").asText();
                points.add(new Point(series, run.get("nodes").asInt(), run.get("p50Millis").asDouble(),
                        run.get("p99Millis").asDouble()));
            }
        }
        java.nio.file.Files.writeString(java.nio.file.Path.of(args[1]), svg(points));
    }

    static String svg(List<Point> points) {
        int maxNodes = points.stream().mapToInt(Point::nodes).max().orElse(1);
        double maxMillis = niceCeiling(points.stream().mapToDouble(Point::p99Millis).max().orElse(1));
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT));
        out.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">Convergence latency after one change "
                + "(simulated fleet, 2 cores)</text>%n", LEFT));
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                LEFT, TOP + plotHeight, LEFT + plotWidth, TOP + plotHeight));
        out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                LEFT, TOP, LEFT, TOP + plotHeight));
        for (int i = 0; i <= 4; i++) {
            double millis = maxMillis * i / 4;
            double y = TOP + plotHeight - plotHeight * i / 4.0;
            out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    LEFT, y, LEFT + plotWidth, y));
            out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f ms</text>%n", LEFT - 6, y + 4, millis));
        }
        for (int nodes : points.stream().map(Point::nodes).distinct().sorted().toList()) {
            double x = LEFT + plotWidth * (double) nodes / maxNodes;
            out.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d</text>%n", x,
                    TOP + plotHeight + 16, nodes));
        }
        out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">nodes</text>%n",
                LEFT + plotWidth / 2, HEIGHT - 12));
        Map<String, List<Point>> byDesign = points.stream().collect(Collectors.groupingBy(Point::design, TreeMap::new, Collectors.toList()));
        int legend = TOP + 10;
        for (Map.Entry<String, List<Point>> design : byDesign.entrySet()) {
            String color = COLORS.getOrDefault(design.getKey(), "#555");
            for (boolean p99 : new boolean[] {false, true}) {
                String path = design.getValue().stream().sorted((a, b) -> Integer.compare(a.nodes(), b.nodes()))
                        .map(p -> String.format(Locale.ROOT, "%.1f,%.1f", LEFT + plotWidth * (double) p.nodes() / maxNodes,
                                TOP + plotHeight - plotHeight * (p99 ? p.p99Millis() : p.p50Millis()) / maxMillis))
                        .collect(Collectors.joining(" "));
                out.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
                        path, color, p99 ? "" : " stroke-dasharray=\"5,4\""));
                out.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
                        WIDTH - RIGHT + 12, legend, WIDTH - RIGHT + 36, legend, color, p99 ? "" : " stroke-dasharray=\"5,4\""));
                out.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s %s</text>%n", WIDTH - RIGHT + 42, legend + 4,
                        design.getKey(), p99 ? "p99" : "p50"));
                legend += 20;
            }
        }
        out.append("</svg>\n");
        return out.toString();
    }

    private static double niceCeiling(double value) {
        double step = Math.pow(10, Math.floor(Math.log10(Math.max(value, 1))));
        return Math.ceil(value / step) * step;
    }
}
