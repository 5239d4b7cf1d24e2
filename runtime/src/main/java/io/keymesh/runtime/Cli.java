package io.keymesh.runtime;

import io.keymesh.schema.keyfile.KeyFileException;
import picocli.CommandLine;

/**
 * Runs a picocli command the way keymesh's programs report errors: bad usage is one line plus a
 * hint (exit 2); any failure is one line naming the problem (exit 1, or a {@link Failure}'s own); never a stack trace
 * unless KEYMESH_DEBUG is set.
 */
public final class Cli {
    private Cli() {
    }

    public static int run(Object command, String... args) {
        return run(command, new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true), args);
    }

    /** Held so the logger, and the level set on it, is not garbage-collected. */
    private static final java.util.logging.Logger GRPC_LOGGER = java.util.logging.Logger.getLogger("io.grpc");

    public static int run(Object command, java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        // gRPC logs through java.util.logging straight to stderr ("Received data on closed stream"),
        // which would break the one-line error promise; its real failures reach us as exceptions.
        GRPC_LOGGER.setLevel(java.util.logging.Level.SEVERE);
        CommandLine cli = new CommandLine(command);
        cli.setOut(out);
        cli.setErr(err);
        String name = cli.getCommandName();
        cli.setParameterExceptionHandler((e, argv) -> {
            e.getCommandLine().getErr().println(name + ": " + e.getMessage());
            e.getCommandLine().getErr().println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help'.");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (System.getenv("KEYMESH_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            commandLine.getErr().println(name + ": " + message(e));
            return e instanceof Failure failure ? failure.exitCode() : 1;
        });
        return cli.execute(args);
    }

    /** A failure with its own exit status, for a service manager to tell apart from the rest. */
    public static final class Failure extends RuntimeException {
        private final int exitCode;

        public Failure(String message, int exitCode) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }

        public int exitCode() {
            return exitCode;
        }
    }

    public static String message(Throwable e) {
        if (e instanceof Failure || e instanceof IllegalArgumentException || e instanceof KeyFileException || e instanceof IllegalStateException) {
            return e.getMessage();
        }
        String text = Errors.rootMessage(e);
        if (Errors.rootCause(e) instanceof java.util.concurrent.TimeoutException) {
            text = "etcd did not answer in time (is it running and reachable?)";
        }
        return text;
    }
}
