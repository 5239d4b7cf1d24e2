package io.keymesh.schema.verify;

/**
 * A value whose signature checked out.
 *
 * @param keyId   the authority key that signed it
 * @param content the canonical bytes the signature covers; two records at one epoch with
 *                different content are an equivocation
 */
public record Verified<T>(T value, String keyId, byte[] content) {
}
