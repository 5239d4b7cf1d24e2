package io.keymesh.authority.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;

/** Durations as operators write them: {@code 90s}, {@code 15m}, {@code 24h}, {@code 7d}. */
public final class Durations implements ITypeConverter<Duration> {
    private static final Pattern FORM = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

    @Override
    public Duration convert(String value) {
        Matcher m = FORM.matcher(value.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a duration like 90s, 15m, 24h or 7d");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    /** A duration the same way, to the two largest units: {@code 9s}, {@code 4m10s}, {@code 5h12m}, {@code 2d3h}. */
    static String format(Duration duration) {
        long s = Math.max(0, duration.getSeconds());
        long[] amounts = {s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60, s % 60};
        String[] units = {"d", "h", "m", "s"};
        int first = 0;
        while (first < 3 && amounts[first] == 0) {
            first++;
        }
        StringBuilder out = new StringBuilder().append(amounts[first]).append(units[first]);
        if (first < 3 && amounts[first + 1] != 0) {
            out.append(amounts[first + 1]).append(units[first + 1]);
        }
        return out.toString();
    }
}
