import { CustodianError } from '../../src/domain/errors.js';

/** What a promise settles to, for rejection-path assertions: `resolved`, or the error's stable code. */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );
}

/** The CustodianError `fn` throws; anything else it throws goes on, and not throwing fails the test. */
export function thrownBy(fn: () => unknown): CustodianError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CustodianError) return error;
    throw error;
  }
  throw new Error('expected a CustodianError');
}
