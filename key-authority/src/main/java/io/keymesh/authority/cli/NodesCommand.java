package io.keymesh.authority.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.etcd.jetcd.KeyValue;
import io.keymesh.runtime.etcd.EtcdBytes;
import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.record.IpPrefix;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.schema.verify.RejectedValueException;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "List node records. With trusted keys (--config or --trust-key) each record is also verified.")
final class NodesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json")
    String output;

    @Override
    public Integer call() {
        if (!output.equals("table") && !output.equals("json")) {
            throw new IllegalArgumentException("--output must be table or json");
        }
        try (Context context = Context.of(spec)) {
            NodeRecordCheck check = checker(context);
            ArrayNode json = Json.mapper().createArrayNode();
            Table table = new Table("NODE", "EPOCH", "STATE", "KEY AGE", "ADDRESSES", "ENDPOINTS", "WG PUBLIC KEY", "VERIFIED");
            java.time.Instant now = java.time.Instant.now();
            for (KeyValue kv : context.list(context.layout.directory(KeyLayout.Kind.NODE))) {
                String key = EtcdBytes.text(kv.getKey());
                byte[] value = kv.getValue().getBytes();
                NodeRecord record;
                try {
                    record = Json.parse(value, NodeRecord.class);
                } catch (MalformedValueException e) {
                    spec.commandLine().getErr().println(key + ": " + e.getMessage());
                    continue;
                }
                String verified = verify(check, key, value);
                String addresses = record.addresses().stream().map(IpPrefix::toString).collect(Collectors.joining(","));
                String endpoints = record.endpoints().stream().map(Object::toString).collect(Collectors.joining(","));
                java.time.Duration keyAge = java.time.Duration.between(record.keyIssuedAt(), now);
                String state = record.state().name().toLowerCase() + (record.isRotationRequested() ? " (rotating)" : "");
                table.row(record.node(), record.epoch(), state, Durations.format(keyAge), addresses,
                        endpoints, record.wgPublicKey(), verified);
                ObjectNode entry = json.addObject();
                entry.put("node", record.node());
                entry.put("epoch", record.epoch());
                entry.put("serial", record.serial());
                entry.put("state", record.state().name().toLowerCase());
                entry.put("wgPublicKey", record.wgPublicKey().base64());
                entry.put("identityKey", record.identityKey().base64());
                record.addresses().forEach(a -> entry.withArray("addresses").add(a.toString()));
                record.endpoints().forEach(e -> entry.withArray("endpoints").add(e.toString()));
                entry.put("keyIssuedAt", record.keyIssuedAt().toString());
                entry.put("keyAgeSeconds", Math.max(0, keyAge.getSeconds()));
                entry.put("issuedAt", record.issuedAt().toString());
                if (record.isRotationRequested()) {
                    entry.put("rotationRequestedAt", record.rotationRequestedAt().toString());
                }
                entry.put("verified", verified);
            }
            if (output.equals("json")) {
                spec.commandLine().getOut().println(Json.toLineString(json));
                spec.commandLine().getOut().flush();
            } else {
                table.print(spec.commandLine().getOut());
            }
            return 0;
        }
    }

    private static NodeRecordCheck checker(Context context) {
        try {
            TrustedKeys trusted = context.trusted();
            return new NodeRecordCheck(context.layout, trusted, context.mesh);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String verify(NodeRecordCheck check, String key, byte[] value) {
        if (check == null) {
            return "unknown (no trusted key given)";
        }
        try {
            check.verify(key, value);
            return "yes";
        } catch (RejectedValueException e) {
            return "NO: " + e.reason().code();
        }
    }
}
