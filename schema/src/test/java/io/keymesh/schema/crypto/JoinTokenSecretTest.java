package io.keymesh.schema.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class JoinTokenSecretTest {

    @Test
    void revealedTokenParsesBackToTheSameProofKey() {
        JoinTokenSecret token = JoinTokenSecret.generate();
        JoinTokenSecret parsed = JoinTokenSecret.parse(token.reveal() + "\n");
        assertEquals(token.id(), parsed.id());
        assertEquals(token.proofKey().publicKey(), parsed.proofKey().publicKey());
    }

    @Test
    void differentSecretsGiveDifferentProofKeys() {
        assertNotEquals(JoinTokenSecret.generate().proofKey().publicKey(), JoinTokenSecret.generate().proofKey().publicKey());
    }

    @Test
    void toStringShowsOnlyTheId() {
        JoinTokenSecret token = JoinTokenSecret.generate();
        String secretPart = token.reveal().substring(token.reveal().indexOf('.') + 1);
        assertFalse(token.toString().contains(secretPart));
    }

    @Test
    void malformedTokensAreRefused() {
        assertEquals("join token must look like <id>.<secret>",
                assertThrows(IllegalArgumentException.class, () -> JoinTokenSecret.parse("no-dot")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> JoinTokenSecret.parse("abc.c2hvcnQ"));
        assertThrows(IllegalArgumentException.class, () -> JoinTokenSecret.parse("bad id!.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    }
}
