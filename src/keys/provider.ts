/**
 * A root-key provider: holds the key that wraps every subject's data key. The root key never
 * leaves the provider in a form that reaches the database; with PKCS#11 it never leaves the token.
 */
export interface RootKeyProvider {
  /** Stable, non-secret identifier of the key (recorded with each wrapped key), e.g. `file:3f9a1c0e`. */
  readonly keyId: string;
  /**
   * Wraps (encrypts) a data key with AES-256-GCM under the root key. `aad` binds the wrapped key
   * to its owner (subject id and key version) so a wrapped key copied to another subject fails.
   * Returns a self-contained blob: nonce ‖ ciphertext ‖ tag.
   */
  wrap(dataKey: Buffer, aad: Buffer): Promise<Buffer>;
  /** Reverses {@link wrap}; throws `ERR_CRYPTO_DECRYPTION_FAILED` on any mismatch. */
  unwrap(wrapped: Buffer, aad: Buffer): Promise<Buffer>;
  close(): Promise<void>;
}
