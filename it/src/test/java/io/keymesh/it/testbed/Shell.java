package io.keymesh.it.testbed;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs commands for the testbed, in the host's namespace or in one of the testbed's. */
public final class Shell {
    private Shell() {
    }

    /** Runs to completion within 60 s; a non-zero exit is an error carrying the output. */
    public static String run(String... command) {
        Result result = result(command);
        if (result.exit() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (exit " + result.exit() + "): " + result.output().strip());
        }
        return result.output();
    }

    /** The outcome of a command that may fail. */
    public record Result(int exit, String output) {
    }

    /**
     * Runs to completion and returns its exit status and output, failing or not. The output is
     * read on another thread, so a command that hangs is killed after 60 s instead of hanging the
     * test (and with it the build).
     */
    public static Result result(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            java.util.concurrent.CompletableFuture<String> out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    return "";
                }
            });
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within 60 s");
            }
            return new Result(p.exitValue(), out.get(10, TimeUnit.SECONDS));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot run " + command[0] + ": " + e.getMessage(), e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(command[0] + ": its output could not be read", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The command prefixed to run in network namespace {@code ns}. */
    public static String[] in(String ns, String... command) {
        List<String> argv = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        argv.addAll(List.of(command));
        return argv.toArray(String[]::new);
    }

}
