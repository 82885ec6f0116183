import { isCustodianError } from '../../src/domain/errors.js';

/** Hex to bytes. */
export function hex(value: string): Buffer {
  return Buffer.from(value, 'hex');
}

/**
 * Runs `fn` and returns the code of the CustodianError it throws, or a marker when it returns or
 * throws something else; for property tests, where `expect(...).toThrow` cannot return a value.
 */
export function thrownCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isCustodianError(error) ? error.code : `not a CustodianError: ${String(error)}`;
  }
  return 'did not throw';
}
