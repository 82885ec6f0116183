import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CustodianError, ERROR_CODES, type ErrorCode } from '../src/domain/errors.js';
import { problemFor } from '../src/http/problem.js';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \| (\d{3}) \| ([12]) \|/gm)].map((m) => [
    m[1]!,
    { status: Number(m[2]), exit: Number(m[3]) },
  ]),
);
const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('error codes', () => {
  it('follow ERR_<AREA>_<WHAT>', () => {
    for (const code of codes) expect(code).toMatch(/^ERR_[A-Z0-9]+_[A-Z0-9_]+$/);
  });

  it('are all documented in docs/errors.md with the same status and exit code', () => {
    for (const code of codes) {
      expect(documented.get(code), `${code} missing from docs/errors.md`).toEqual({
        status: ERROR_CODES[code].status,
        exit: ERROR_CODES[code].exit,
      });
    }
    expect([...documented.keys()].sort()).toEqual([...codes].sort());
  });

  it('map to their HTTP status and a stable problem type', () => {
    for (const code of codes) {
      const problem = problemFor(code, 'req-1');
      expect(problem).toMatchObject({
        code,
        status: ERROR_CODES[code].status,
        type: `/problems/${code}`,
        requestId: 'req-1',
      });
      const error = new CustodianError(code, 'x');
      expect(error.status).toBe(ERROR_CODES[code].status);
      expect(error.exitCode).toBe(ERROR_CODES[code].exit);
    }
  });
});
