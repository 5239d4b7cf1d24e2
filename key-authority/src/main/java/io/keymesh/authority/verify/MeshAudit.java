package io.keymesh.authority.verify;

import io.keymesh.schema.crypto.TrustedKeys;
import io.keymesh.schema.json.Json;
import io.keymesh.schema.json.MalformedValueException;
import io.keymesh.schema.layout.KeyLayout;
import io.keymesh.schema.layout.KeyLayout.Key;
import io.keymesh.schema.record.AddressClaim;
import io.keymesh.schema.record.AuditEvent;
import io.keymesh.schema.record.AuthorityKeyInfo;
import io.keymesh.schema.record.EnrollmentResult;
import io.keymesh.schema.record.JoinToken;
import io.keymesh.schema.record.MeshConfig;
import io.keymesh.schema.record.NodeRecord;
import io.keymesh.schema.record.NodeStatus;
import io.keymesh.schema.record.OperatorRequest;
import io.keymesh.schema.record.RevocationTombstone;
import io.keymesh.schema.verify.AuthoritySignature;
import io.keymesh.schema.verify.NodeRecordCheck;
import io.keymesh.schema.verify.RejectedValueException;
import io.keymesh.schema.verify.SignedEnrollment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks every value under the prefix, as {@code keymesh verify} reports it: signatures against
 * the trusted keys, each value where its name says it must be, and the epoch rule. The history
 * the epoch rule needs comes from the audit log and the tombstones: a node record whose epoch is
 * below one the authority has recorded for that node is a rollback (a replayed older record).
 */
public final class MeshAudit {
    /** One stored value: the key and its bytes. */
    public record Entry(String key, byte[] value) {
    }

    /** A value that failed a check. */
    public record Finding(String key, String problem) {
    }

    private final KeyLayout layout;
    private final TrustedKeys trusted;
    private final NodeRecordCheck nodeCheck;

    public MeshAudit(KeyLayout layout, TrustedKeys trusted, String mesh) {
        this.layout = layout;
        this.trusted = trusted;
        this.nodeCheck = new NodeRecordCheck(layout, trusted, mesh);
    }

    public List<Finding> check(List<Entry> entries) {
        List<Finding> findings = new ArrayList<>();
        Map<String, Long> highestRecordedEpoch = new HashMap<>();
        Map<String, NodeRecord> nodes = new HashMap<>();
        List<Entry> nodeEntries = new ArrayList<>();
        List<Entry> claims = new ArrayList<>();
        for (Entry entry : entries) {
            if (entry.key().startsWith(layout.election() + "/")) {
                continue; // election keys hold a candidate name, not JSON
            }
            Optional<Key> key = layout.parse(entry.key());
            if (key.isEmpty()) {
                findings.add(new Finding(entry.key(), "not a key of the keymesh layout"));
                continue;
            }
            try {
                switch (key.get().kind()) {
                    case NODE -> nodeEntries.add(entry);
                    case IPAM -> claims.add(entry);
                    case AUDIT -> {
                        AuditEvent event = Json.parse(entry.value(), AuditEvent.class);
                        expect(event.id().equals(key.get().name()), "audit id " + event.id() + " differs from its key");
                        if (event.node() != null && event.epoch() > 0) {
                            highestRecordedEpoch.merge(event.node(), event.epoch(), Math::max);
                        }
                    }
                    case REVOKED -> {
                        RevocationTombstone t = AuthoritySignature.verify(entry.value(), RevocationTombstone.class, trusted).value();
                        expect(t.identityKey().fingerprint().equals(key.get().name()), "tombstone for another identity than its key names");
                        highestRecordedEpoch.merge(t.node(), t.epoch(), Math::max);
                    }
                    case CONFIG -> AuthoritySignature.verify(entry.value(), MeshConfig.class, trusted);
                    case TOKEN -> expect(Json.parse(entry.value(), JoinToken.class).id().equals(key.get().name()),
                            "token id differs from its key");
                    case ENROLL -> expect(SignedEnrollment.verify(entry.value()).request().node().equals(key.get().name()),
                            "enrollment for another node than its key names");
                    case ENROLL_RESULT -> expect(Json.parse(entry.value(), EnrollmentResult.class).node().equals(key.get().name()),
                            "result for another node than its key names");
                    case REQUEST -> expect(Json.parse(entry.value(), OperatorRequest.class).id().equals(key.get().name()),
                            "request id differs from its key");
                    case STATUS -> expect(Json.parse(entry.value(), NodeStatus.class).node().equals(key.get().name()),
                            "status of another node than its key names");
                    case AUTHORITY_KEY -> expect(Json.parse(entry.value(), AuthorityKeyInfo.class).keyId().equals(key.get().name()),
                            "key id differs from its key");
                }
            } catch (RejectedValueException e) {
                findings.add(new Finding(entry.key(), e.getMessage()));
            } catch (MalformedValueException e) {
                findings.add(new Finding(entry.key(), "malformed: " + e.getMessage()));
            } catch (IllegalArgumentException e) {
                findings.add(new Finding(entry.key(), e.getMessage()));
            }
        }
        for (Entry entry : nodeEntries) {
            try {
                NodeRecord record = nodeCheck.verify(entry.key(), entry.value()).value();
                long recorded = highestRecordedEpoch.getOrDefault(record.node(), 0L);
                if (record.epoch() < recorded) {
                    findings.add(new Finding(entry.key(), "epoch-rollback: record at epoch " + record.epoch()
                            + ", but the authority recorded epoch " + recorded + " for " + record.node()));
                } else {
                    nodes.put(record.node(), record);
                }
            } catch (RejectedValueException e) {
                findings.add(new Finding(entry.key(), e.getMessage()));
            }
        }
        for (Entry entry : claims) {
            try {
                AddressClaim claim = Json.parse(entry.value(), AddressClaim.class);
                String name = layout.parse(entry.key()).orElseThrow().name();
                expect(claim.address().equals(name), "claims " + claim.address() + " under the key of " + name);
                NodeRecord owner = nodes.get(claim.node());
                expect(owner != null && owner.isActive() && owner.addresses().stream()
                                .anyMatch(p -> io.keymesh.schema.record.IpAddresses.format(p.address()).equals(name)),
                        "address claimed for " + claim.node() + ", which holds no valid active record with it");
            } catch (MalformedValueException e) {
                findings.add(new Finding(entry.key(), "malformed: " + e.getMessage()));
            } catch (IllegalArgumentException e) {
                findings.add(new Finding(entry.key(), e.getMessage()));
            }
        }
        return findings;
    }

    private static void expect(boolean condition, String problem) {
        if (!condition) {
            throw new IllegalArgumentException(problem);
        }
    }
}
