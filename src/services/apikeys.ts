/**
 * API keys for integrations (the Tmall order sync, a CRM): bearer tokens with one role, shown once
 * at creation and stored only as their SHA-256 (`api_tokens.token_hash`).
 */
import type { RoleSpec } from '../domain/access/roles.js';
import { CustodianError } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import { assertRoleKnown, type AccessEventSink, type Actor } from './staff.js';
import { issueToken } from './tokens.js';

export interface ApiKeySummary {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly lastUsedAt: string | null;
  readonly status: 'active' | 'expired' | 'revoked';
}

export interface CreatedApiKey {
  /** `cst_…`; shown once, never stored. */
  readonly token: string;
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly expiresAt: string | null;
}

export interface CreateApiKeyInput {
  readonly role: string;
  readonly name?: string | undefined;
  /** Lifetime in milliseconds; omitted, the key does not expire (the access review lists it). */
  readonly expiresInMs?: number | undefined;
}

export interface ApiKeysDeps {
  readonly store: Store;
  readonly roles: Readonly<Record<string, RoleSpec>>;
  readonly now: () => Date;
  readonly onEvent?: AccessEventSink | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class ApiKeys {
  readonly #d: ApiKeysDeps;

  constructor(deps: ApiKeysDeps) {
    this.#d = deps;
  }

  /** Issues a key for a known role (`ERR_ROLE_UNKNOWN` otherwise). */
  async create(input: CreateApiKeyInput, actor: Actor): Promise<CreatedApiKey> {
    assertRoleKnown(this.#d.roles, input.role);
    const name = (input.name ?? `${input.role} integration`).trim();
    if (name.length === 0 || name.length > 120)
      throw new CustodianError('ERR_USAGE_INVALID', 'an API key name has 1-120 characters');
    const at = this.#d.now();
    const expiresAt =
      input.expiresInMs === undefined ? undefined : new Date(at.getTime() + input.expiresInMs);
    return this.#d.store.transaction(async (tx) => {
      const { token, record } = await issueToken(tx, { name, role: input.role, expiresAt }, at);
      if (this.#d.onEvent)
        await this.#d.onEvent(tx, {
          name: 'apikey.create',
          at: at.toISOString(),
          actor,
          detail: { apikey: record.id, role: record.role, expires: record.expiresAt ?? 'never' },
        });
      return { token, id: record.id, name: record.name, role: record.role, expiresAt: record.expiresAt };
    });
  }

  async list(): Promise<ApiKeySummary[]> {
    const at = this.#d.now().getTime();
    return (await this.#d.store.tokens.list()).map((k) => ({
      id: k.id,
      name: k.name,
      role: k.role,
      createdAt: k.createdAt,
      expiresAt: k.expiresAt,
      revokedAt: k.revokedAt,
      lastUsedAt: k.lastUsedAt,
      status:
        k.revokedAt !== null
          ? 'revoked'
          : k.expiresAt !== null && Date.parse(k.expiresAt) <= at
            ? 'expired'
            : 'active',
    }));
  }

  /** Revokes a key at once; `ERR_APIKEY_NOT_FOUND` when it is unknown or revoked already. */
  async revoke(id: string, actor: Actor): Promise<void> {
    const notFound = (): CustodianError =>
      new CustodianError('ERR_APIKEY_NOT_FOUND', 'no active API key has that id');
    if (!UUID.test(id)) throw notFound();
    const at = this.#d.now().toISOString();
    await this.#d.store.transaction(async (tx) => {
      if (!(await tx.tokens.revoke(id, at))) throw notFound();
      if (this.#d.onEvent)
        await this.#d.onEvent(tx, { name: 'apikey.revoke', at, actor, detail: { apikey: id } });
    });
  }
}
