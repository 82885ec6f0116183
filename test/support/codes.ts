/** What a promise settles to, for rejection-path assertions: `resolved`, or the error's stable code. */
export function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e as { code?: string }).code ?? String(e),
  );
}
