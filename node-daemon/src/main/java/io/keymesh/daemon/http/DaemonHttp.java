package io.keymesh.daemon.http;

import io.keymesh.daemon.mesh.MeshSnapshot;
import io.keymesh.daemon.reconcile.DeviceWorker;
import io.keymesh.daemon.wireguard.PeerStatus;
import io.keymesh.runtime.Errors;
import io.keymesh.runtime.metrics.Metrics;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The daemon's HTTP endpoints on Vert.x: {@code /healthz} (the process serves), {@code /readyz}
 * (the device matches the last known records), {@code /metrics} (Prometheus) and {@code /peers}
 * (the peers keymesh owns, as the device has them). The device is read on the device worker; the
 * event loop only waits for the answer.
 */
public final class DaemonHttp {
    /** Plain Jackson: /peers shows absent values as null rather than leaving the field out. */
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
    private final Vertx vertx;
    private final DeviceWorker worker;
    private final Metrics metrics;
    private final Supplier<Optional<String>> notReadyBecause;

    public DaemonHttp(Vertx vertx, DeviceWorker worker, Metrics metrics, Supplier<Optional<String>> notReadyBecause) {
        this.vertx = vertx;
        this.worker = worker;
        this.metrics = metrics;
        this.notReadyBecause = notReadyBecause;
    }

    public Future<HttpServer> listen(InetSocketAddress address) {
        return vertx.createHttpServer().requestHandler(this::handle).listen(address.getPort(), address.getHostString());
    }

    private void handle(HttpServerRequest request) {
        if (request.method() != HttpMethod.GET && request.method() != HttpMethod.HEAD) {
            request.response().setStatusCode(405).end();
            return;
        }
        switch (request.path()) {
            case "/healthz" -> text(request, 200, "ok\n");
            case "/readyz" -> {
                Optional<String> why = notReadyBecause.get();
                text(request, why.isEmpty() ? 200 : 503, why.isEmpty() ? "ready\n" : "not ready: " + why.get() + "\n");
            }
            case "/metrics" -> request.response().putHeader("Content-Type", "text/plain; version=0.0.4").end(metrics.render());
            case "/peers" -> peers(request);
            default -> text(request, 404, "not found; try /healthz, /readyz, /metrics or /peers\n");
        }
    }

    private void peers(HttpServerRequest request) {
        MeshSnapshot applied = worker.applied();
        Future.fromCompletionStage(worker.read().thenCombine(worker.owned(), (device, owned) -> render(applied, device.peers(), owned)),
                        vertx.getOrCreateContext())
                .onSuccess(body -> request.response().putHeader("Content-Type", "application/json").end(body))
                .onFailure(e -> text(request, 503, "cannot read the WireGuard device: " + Errors.rootMessage(e) + "\n"));
    }

    static String render(MeshSnapshot applied, Map<WireGuardPublicKey, PeerStatus> device, Set<WireGuardPublicKey> owned) {
        Map<WireGuardPublicKey, NodeRecord> byKey = new HashMap<>();
        if (applied != null) {
            applied.records().values().forEach(r -> byKey.put(r.wgPublicKey(), r));
        }
        List<Map<String, Object>> peers = new ArrayList<>();
        owned.stream().filter(device::containsKey).sorted(Comparator.comparing(WireGuardPublicKey::base64)).forEach(key -> {
            PeerStatus peer = device.get(key);
            NodeRecord record = byKey.get(key);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("node", record == null ? null : record.node());
            row.put("epoch", record == null ? null : record.epoch());
            row.put("publicKey", key.base64());
            row.put("endpoint", peer.config().endpoint() == null ? null : peer.config().endpoint().toString());
            row.put("allowedIps", peer.config().allowedIps().stream().map(IpPrefix::toString).toList());
            row.put("latestHandshake", peer.lastHandshake() == null ? null : peer.lastHandshake().toString());
            peers.add(row);
        });
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(Map.of("peers", peers)) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void text(HttpServerRequest request, int status, String body) {
        request.response().setStatusCode(status).putHeader("Content-Type", "text/plain").end(body);
    }
}
