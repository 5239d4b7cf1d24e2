package io.keymesh.authority.server;

import io.keymesh.runtime.metrics.Metrics;

import io.keymesh.runtime.DaemonThreads;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.Optional;
import java.util.function.Supplier;

/** {@code /healthz} (the process serves), {@code /readyz} (mesh state loaded, its watch answering, etcd renewing its lease), {@code /metrics}. */
public final class AuthorityHttp implements AutoCloseable {
    private final HttpServer server;

    public AuthorityHttp(InetSocketAddress address, Supplier<Optional<String>> notReadyBecause, Metrics metrics) throws IOException {
        server = HttpServer.create(address, 16);
        server.createContext("/healthz", exchange -> reply(exchange, 200, "ok\n", "text/plain"));
        server.createContext("/readyz", exchange -> {
            Optional<String> why = notReadyBecause.get();
            reply(exchange, why.isEmpty() ? 200 : 503, why.isEmpty() ? "ready\n" : "not ready: " + why.get() + "\n", "text/plain");
        });
        server.createContext("/metrics", exchange -> reply(exchange, 200, metrics.render(), "text/plain; version=0.0.4"));
        server.setExecutor(Executors.newSingleThreadExecutor(DaemonThreads.named("keymesh-http")));
        server.start();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    private static void reply(HttpExchange exchange, int status, String body, String type) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
