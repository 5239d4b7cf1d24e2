package io.keymesh.daemon.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.keymesh.schema.crypto.WireGuardPublicKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFileException;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.verify.EpochGuard;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code mesh-state.json} in the state directory: what the daemon must remember across a restart
 * or a reboot so it can bring the mesh up before etcd answers and still refuse replays. Holds
 * the last verified node records and mesh config exactly as stored (re-verified when loaded),
 * the highest epoch seen per node, and the peers keymesh put on the device. No secrets. Written
 * like a key file (temp file, fsync, rename), so a crash leaves the old or the new state.
 */
public final class StateFile {
    public static final String NAME = "mesh-state.json";
    private static final int VERSION = 2;

    /** What is persisted; values are base64 of the bytes as stored in etcd. */
    public record Saved(long revision, Map<String, byte[]> records, byte[] config, Map<String, EpochGuard.Seen> highestSeen,
                        Set<WireGuardPublicKey> owned) {
        public static final Saved EMPTY = new Saved(0, Map.of(), null, Map.of(), Set.of());

        public Saved {
            records = Map.copyOf(records);
            highestSeen = Map.copyOf(highestSeen);
            owned = Set.copyOf(owned);
        }
    }

    private record SeenJson(long epoch, Long serial, String content) {
    }

    private record FileJson(int version, long revision, Map<String, String> records, String config, Map<String, SeenJson> highestSeen,
                            List<String> owned) {
    }

    private final Path file;

    public StateFile(Path stateDirectory) {
        this.file = stateDirectory.resolve(NAME);
    }

    public Path path() {
        return file;
    }

    /** The saved state, or {@link Saved#EMPTY} on a fresh host; a damaged file is an error, never silently dropped. */
    public Saved load() {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return Saved.EMPTY;
        } catch (IOException e) {
            throw new KeyFileException("cannot read " + file + ": " + e.getMessage());
        }
        try {
            FileJson json = Json.mapper().readValue(text, FileJson.class);
            if (json == null || (json.version() != VERSION && json.version() != 1)) { // 1: before serials
                throw new IllegalArgumentException("unknown version " + (json == null ? "none" : json.version()));
            }
            Base64.Decoder b64 = Base64.getDecoder();
            Map<String, byte[]> records = new HashMap<>();
            nonNull(json.records()).forEach((key, value) -> records.put(key, b64.decode(value)));
            Map<String, EpochGuard.Seen> seen = new HashMap<>();
            nonNull(json.highestSeen()).forEach((node, s) -> seen.put(node, new EpochGuard.Seen(s.epoch(), s.serial() == null ? s.epoch() : s.serial(), b64.decode(s.content()))));
            Set<WireGuardPublicKey> owned = new HashSet<>();
            (json.owned() == null ? List.<String>of() : json.owned()).forEach(k -> owned.add(WireGuardPublicKey.parse(k)));
            return new Saved(json.revision(), records, json.config() == null ? null : b64.decode(json.config()), seen, owned);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new KeyFileException(file + " is damaged (" + firstLine(e.getMessage()) + "); move it aside to start over: "
                    + "the daemon then relearns the mesh from etcd, but cannot bring peers up before etcd answers");
        }
    }

    public void save(Saved state) {
        Base64.Encoder b64 = Base64.getEncoder();
        Map<String, String> records = new TreeMap<>();
        state.records().forEach((key, value) -> records.put(key, b64.encodeToString(value)));
        Map<String, SeenJson> seen = new TreeMap<>();
        state.highestSeen().forEach((node, s) -> seen.put(node, new SeenJson(s.epoch(), s.serial(), b64.encodeToString(s.content()))));
        List<String> owned = state.owned().stream().map(WireGuardPublicKey::base64).sorted().toList();
        FileJson json = new FileJson(VERSION, state.revision(), records,
                state.config() == null ? null : b64.encodeToString(state.config()), seen, owned);
        try {
            KeyFiles.writeSecret(file, Json.mapper().writeValueAsString(json), true);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the mesh state", e);
        }
    }

    private static <K, V> Map<K, V> nonNull(Map<K, V> map) {
        return map == null ? Map.of() : map;
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
