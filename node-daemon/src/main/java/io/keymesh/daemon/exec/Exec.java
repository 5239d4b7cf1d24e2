package io.keymesh.daemon.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a system tool ({@code ip}, {@code wg}) with a deadline. Secrets go
 * in on standard input, never on the command line, where every user on the host could read them
 * in {@code /proc}.
 */
public final class Exec {
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    /** The outcome of one run. */
    public record Result(int exit, String stdout, String stderr) {
        public boolean ok() {
            return exit == 0;
        }
    }

    private Exec() {
    }

    public static Result run(List<String> command, byte[] stdin) throws IOException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (" + e.getMessage() + "); is it installed?", e);
        }
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        try (OutputStream in = process.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin);
            }
        } catch (IOException e) {
            process.destroyForcibly(); // it exited before reading its input: its exit status says why
        }
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + TIMEOUT.toSeconds() + " s");
            }
            return new Result(process.exitValue(), out.join(), err.join().strip());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0), e);
        }
    }

    /** Runs and requires success; the error names the command and what it printed. */
    public static String check(List<String> command, byte[] stdin) throws IOException {
        Result result = run(command, stdin);
        if (!result.ok()) {
            throw new IOException(String.join(" ", command) + " failed (exit " + result.exit() + "): " + result.stderr());
        }
        return result.stdout();
    }

    public static String check(String... command) throws IOException {
        return check(List.of(command), null);
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
    }
}
