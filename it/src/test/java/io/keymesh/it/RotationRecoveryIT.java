package io.keymesh.it;

import static io.keymesh.it.RotationIT.jsonLine;
import static io.keymesh.it.testbed.Shell.in;
import static io.keymesh.it.testbed.Shell.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.keymesh.it.testbed.Host;
import io.keymesh.it.testbed.Shell;
import io.keymesh.it.testbed.Testbed;
import io.keymesh.it.testbed.Wait;
import io.keymesh.schema.crypto.WireGuardPrivateKey;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.keyfile.KeyFiles;
import io.keymesh.schema.record.NodeRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Rotation when things fail: daemons killed between the steps of a rotation, the leader and the
 * rollout itself killed mid-rollout, a node that is down, and a re-imaged host reprovisioned.
 */
class RotationRecoveryIT {
    private static final Duration WAIT = Duration.ofSeconds(90);

    private Testbed bed;

    @AfterEach
    void tearDown() {
        if (bed != null) {
            bed.close();
        }
    }

    private List<Host> mesh(String... names) throws Exception {
        bed = Testbed.start(2);
        List<Host> hosts = bed.joinHosts(WAIT, names);
        awaitFullMesh(hosts);
        return hosts;
    }

    private void awaitFullMesh(List<Host> hosts) throws Exception {
        bed.awaitFullMesh(hosts, WAIT);
    }

    private NodeRecord record(String node) throws Exception {
        return Json.parse(bed.etcdctl("get", "--print-value-only", "/keymesh/v1/nodes/" + node).strip().getBytes(StandardCharsets.UTF_8),
                NodeRecord.class);
    }

    private Map<String, Long> epochs() throws Exception {
        Map<String, Long> epochs = new HashMap<>();
        for (JsonNode node : Json.mapper().readTree(jsonLine(bed.keymesh("nodes", "-o", "json")))) {
            epochs.put(node.get("node").asText(), node.get("epoch").asLong());
        }
        return epochs;
    }

    /** What a leader writes in phase one, written while no authority runs (as if the leader died right after). */
    private void markAsTheLeaderWould(String node) throws Exception {
        NodeRecord r = record(node);
        NodeRecord marked = new NodeRecord(r.mesh(), r.node(), r.epoch(), r.serial() + 1, r.state(), r.identityKey(), r.wgPublicKey(),
                r.endpoints(), r.addresses(), r.allowedIps(), r.keyIssuedAt(), Instant.now(), Instant.now());
        bed.etcdctl("put", "/keymesh/v1/nodes/" + node, new String(bed.signAsAuthority(marked), StandardCharsets.UTF_8));
    }

    private static String nextKey(Host h) {
        Path file = h.stateDirectory().resolve("wireguard.next.key");
        return Files.exists(file) ? WireGuardPrivateKey.parse(KeyFiles.readSecret(file)).publicKey().base64() : null;
    }

    private String enrollKey(String node) {
        String value = bed.etcdctl("get", "--print-value-only", "/keymesh/v1/enroll/" + node).strip();
        return value.contains("\"kind\":\"rotate\"") ? value.replaceAll(".*\"wgPublicKey\":\"([^\"]+)\".*", "$1") : null;
    }

    @Test
    void daemonsKilledBeforeTheCommitOrBeforeThePromotionLoseNoKeyAndSkipNoEpoch() throws Exception {
        List<Host> hosts = mesh("n1", "n2", "n3");
        Host n2 = hosts.get(1);
        Host n3 = hosts.get(2);
        Map<String, Long> before = epochs();
        bed.killAuthority("a0");
        bed.killAuthority("a1");

        // Killed after persisting its next key and asking for it, before any leader commits.
        markAsTheLeaderWould("n3");
        Wait.until(WAIT, "n3 persisted its next key and asked for it", bed::logs,
                () -> nextKey(n3) != null && nextKey(n3).equals(enrollKey("n3")));
        String n3Next = nextKey(n3);
        n3.killDaemon();
        n3.startDaemon(false);
        Wait.until(WAIT, "n3 is back", bed::logs, n3::ready);
        assertEquals(n3Next, nextKey(n3), "the restarted daemon keeps the next key it already announced");

        // Killed (frozen first) after the commit, before promoting the key.
        markAsTheLeaderWould("n2");
        Wait.until(WAIT, "n2 persisted its next key and asked for it", bed::logs,
                () -> nextKey(n2) != null && nextKey(n2).equals(enrollKey("n2")));
        String n2Old = n2.publicKey();
        String n2Next = nextKey(n2);
        n2.pauseDaemon();
        bed.startAuthority("a0");
        Wait.until(WAIT, "the new leader commits both rotations", bed::logs, () -> {
            try {
                return record("n2").wgPublicKey().base64().equals(n2Next) && record("n3").wgPublicKey().base64().equals(n3Next);
            } catch (Exception e) {
                return false;
            }
        });
        n2.killDaemon();
        assertEquals(n2Old, n2.publicKey(), "n2 never promoted: it was frozen before it saw the commit");
        assertEquals(n2Next, nextKey(n2));
        n2.startDaemon(false);

        awaitFullMesh(hosts);
        assertEquals(n2Next, n2.publicKey(), "promoted after the restart");
        assertEquals(n3Next, n3.publicKey());
        assertEquals(null, nextKey(n2));
        assertEquals(null, nextKey(n3));
        Map<String, Long> after = epochs();
        assertEquals(before.get("n2") + 1, after.get("n2"), "one epoch for one rotation");
        assertEquals(before.get("n3") + 1, after.get("n3"));
        assertEquals(before.get("n1"), after.get("n1"));
    }

    @Test
    void aRolloutSurvivesItsLeaderBeingKilledAndResumesAfterBeingKilledItself() throws Exception {
        List<Host> hosts = mesh("n1", "n2", "n3");
        Host n2 = hosts.get(1);
        Map<String, Long> before = epochs();

        // n2 frozen holds the rollout at its step, so the leader dies mid-rollout, deterministically.
        n2.pauseDaemon();
        Path firstOut = bed.dir().resolve("rollout-1.out");
        Process first = new ProcessBuilder(in(bed.switchNamespace(), bed.keymeshArgv("rollout", "--all", "-o", "json")))
                .redirectErrorStream(true).redirectOutput(firstOut.toFile()).start();
        Wait.until(WAIT, "the rollout rotated n1 and marked n2", bed::logs,
                () -> epochsQuietly().get("n1") > before.get("n1") && markedQuietly("n2"));
        bed.killAuthority(bed.awaitLeader(null, WAIT));
        n2.resumeDaemon();
        assertTrue(first.waitFor(3, java.util.concurrent.TimeUnit.MINUTES), "the rollout finishes");
        String report = Files.readString(firstOut);
        assertEquals(0, first.exitValue(), report);
        assertEquals("done", Json.mapper().readTree(jsonLine(report)).get("status").asText(), report);

        // The rollout itself killed while n2 holds it up; resumed from requests/, from scratch.
        n2.pauseDaemon();
        Process second = new ProcessBuilder(in(bed.switchNamespace(), bed.keymeshArgv("rollout", "--all", "-o", "json")))
                .redirectErrorStream(true).redirectOutput(bed.dir().resolve("rollout-2.out").toFile()).start();
        Wait.until(WAIT, "the second rollout rotated n1 and marked n2", bed::logs,
                () -> epochsQuietly().get("n1") > before.get("n1") + 1 && markedQuietly("n2"));
        second.destroyForcibly().waitFor();
        Shell.Result unfinished = bed.keymeshResult("rollout", "--all");
        assertEquals(1, unfinished.exit(), "a new rollout is refused while one is unfinished: " + unfinished.output());
        assertTrue(unfinished.output().contains("--resume"), unfinished.output());
        n2.resumeDaemon();

        JsonNode resumed = Json.mapper().readTree(jsonLine(bed.keymesh("rollout", "--resume", "-o", "json")));
        assertEquals("done", resumed.get("status").asText());
        awaitFullMesh(hosts);
        Map<String, Long> after = epochs();
        for (Host h : hosts) {
            assertEquals(before.get(h.name) + 2, after.get(h.name), h + ": rotated once per rollout, never twice in one");
        }
    }

    private boolean markedQuietly(String node) {
        try {
            return record(node).isRotationRequested();
        } catch (Exception e) {
            return false;
        }
    }

    private Map<String, Long> epochsQuietly() {
        try {
            return epochs();
        } catch (Exception e) {
            return Map.of("n1", 0L);
        }
    }

    @Test
    void aDownNodeStopsTheRolloutWithAReportWithoutBlockingTheMeshAndRotatesWhenItReturns() throws Exception {
        List<Host> hosts = mesh("n1", "n2", "n3");
        Host n3 = hosts.get(2);
        Map<String, Long> before = epochs();
        n3.killDaemon();

        Shell.Result stopped = bed.keymeshResult("rollout", "n3", "n1", "--timeout", "5s", "-o", "json");
        assertEquals(1, stopped.exit(), stopped.output());
        JsonNode report = Json.mapper().readTree(jsonLine(stopped.output()));
        assertEquals("stopped", report.get("status").asText());
        assertEquals("not-committed", report.get("nodes").get(0).get("outcome").asText());
        assertTrue(report.get("reason").asText().contains("n3"), report.toString());
        String id = report.get("rollout").asText();
        bed.keymesh("rollout", "--cancel", id);

        // The others rotate meanwhile (once n3's status lease, 30 s, has run out, nobody waits for it).
        JsonNode n1 = Json.mapper().readTree(jsonLine(bed.keymesh("rotate", "n1", "-o", "json", "--timeout", "90s")));
        assertEquals("rotated", n1.get("outcome").asText());
        hosts.get(0).ping(hosts.get(1).overlayAddress(), 1);

        n3.startDaemon(false);
        awaitFullMesh(hosts);
        Map<String, Long> after = epochs();
        assertEquals(before.get("n3") + 1, after.get("n3"), "n3 carried out its pending rotation when it came back");
        assertEquals(before.get("n1") + 1, after.get("n1"));
    }

    @Test
    void aReimagedHostIsReprovisionedItsOldIdentityRefusedAndItsPeersSwitch() throws Exception {
        List<Host> hosts = mesh("n1", "n2", "n3");
        Host n3 = hosts.get(2);
        NodeRecord before = record("n3");
        n3.killDaemon();
        n3.removeInterface();
        Path oldKeys = bed.dir().resolve("n3-old-keys");
        Files.createDirectories(oldKeys);
        for (String file : new String[] {"identity.key", "wireguard.key"}) {
            Files.copy(n3.stateDirectory().resolve(file), oldKeys.resolve(file));
        }
        try (var files = Files.list(n3.stateDirectory())) {
            for (Path f : files.toList()) {
                Files.delete(f); // re-imaged: nothing left of the old host
            }
        }
        Files.deleteIfExists(n3.tokenFile());

        String identity = run(in(n3.namespace, Testbed.BIN.resolve("keymesh-daemon").toString(), "--print-identity", "--state-dir",
                n3.stateDirectory().toString())).strip();
        bed.keymesh("reprovision", "n3", "--identity", identity, "--out", n3.tokenFile().toString());
        n3.startDaemon(true);
        awaitFullMesh(hosts);

        NodeRecord after = record("n3");
        assertEquals(identity, after.identityKey().base64());
        assertEquals(before.epoch() + 1, after.epoch());
        assertEquals(before.addresses(), after.addresses(), "the name keeps its overlay address");
        assertNotEquals(before.wgPublicKey(), after.wgPublicKey());
        assertFalse(bed.etcdctl("get", "--keys-only", "/keymesh/v1/revoked/" + before.identityKey().fingerprint()).isBlank(),
                "the old identity is tombstoned");

        Host old = bed.addHost("n4", false);
        for (String file : new String[] {"identity.key", "wireguard.key"}) {
            KeyFiles.writeSecret(old.stateDirectory().resolve(file), KeyFiles.readSecret(oldKeys.resolve(file)), false);
        }
        old.startDaemon(true);
        assertEquals(3, old.awaitDaemonExit(WAIT), "the old identity can never enroll again");
        assertTrue(old.daemonLog().contains("tombstoned-identity"), old.daemonLog());
    }
}
