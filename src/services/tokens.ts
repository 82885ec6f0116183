import { randomUUID } from 'node:crypto';
import { hashToken, isWellFormedToken, newToken } from '../crypto/tokens.js';
import { CustodianError } from '../domain/errors.js';
import type { ApiTokenRecord, Repositories, Store } from '../store/store.js';

/** Who is calling, as established by authentication. Carries no secret. */
export interface Principal {
  /** An integration's API key, or a staff member signed in with password and TOTP. */
  readonly kind: 'token' | 'staff';
  readonly id: string;
  readonly name: string;
  readonly role: string;
  /**
   * R18: false when `access.requireTraining` is on and this person's training has lapsed. API keys
   * are not persons; authentication sets `true` for them.
   */
  readonly trainingCurrent?: boolean;
}

export interface IssuedToken {
  /** Shown once; only its hash is stored. */
  readonly token: string;
  readonly record: ApiTokenRecord;
}

export interface IssueTokenInput {
  readonly name: string;
  readonly role: string;
  readonly expiresAt?: Date | undefined;
}

/** `last_used_at` is refreshed at most this often, so authentication is not a write per request. */
const TOUCH_INTERVAL_MS = 60_000;

/** Issues an API key; pass a transaction's repositories to issue it inside that unit of work. */
export async function issueToken(
  store: Pick<Repositories, 'tokens'>,
  input: IssueTokenInput,
  now: Date = new Date(),
): Promise<IssuedToken> {
  const token = newToken();
  const record: ApiTokenRecord = {
    id: randomUUID(),
    name: input.name,
    role: input.role,
    tokenHash: hashToken(token),
    createdAt: now.toISOString(),
    expiresAt: input.expiresAt?.toISOString() ?? null,
    revokedAt: null,
    lastUsedAt: null,
  };
  await store.tokens.insert(record);
  return { token, record };
}

/**
 * Resolves a bearer token to its principal. Every failure is the same `ERR_AUTH_INVALID`, so a
 * caller cannot tell a revoked token from an unknown one.
 */
export async function authenticate(store: Store, token: string, now: Date = new Date()): Promise<Principal> {
  const fail = (): CustodianError => new CustodianError('ERR_AUTH_INVALID', 'the bearer token is not valid');
  if (!isWellFormedToken(token)) throw fail();
  const record = await store.tokens.findByHash(hashToken(token));
  if (!record || record.revokedAt !== null) throw fail();
  if (record.expiresAt !== null && record.expiresAt <= now.toISOString()) throw fail();
  if (record.lastUsedAt === null || Date.parse(record.lastUsedAt) + TOUCH_INTERVAL_MS <= now.getTime()) {
    await store.tokens.touch(record.id, now.toISOString());
  }
  return { kind: 'token', id: record.id, name: record.name, role: record.role, trainingCurrent: true };
}
