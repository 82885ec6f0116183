import type { Kysely, Selectable } from 'kysely';
import type { PolicyRepository, PolicyVersionRecord } from '../policy.js';
import type { Database, PolicyVersionTable } from '../types.js';

export class KyselyPolicyRepository implements PolicyRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(v: PolicyVersionRecord): Promise<void> {
    await this.#db
      .insertInto('policy_versions')
      .values({
        number: v.number,
        fingerprint: v.fingerprint,
        scope: v.scope,
        published_at: v.publishedAt,
        requires_reconsent: v.requiresReconsent ? 1 : 0,
        reconsent_purposes: JSON.stringify(v.reconsentPurposes),
      })
      .execute();
  }

  async latest(): Promise<PolicyVersionRecord | undefined> {
    const row = await this.#db
      .selectFrom('policy_versions')
      .selectAll()
      .orderBy('number', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async byNumber(number: number): Promise<PolicyVersionRecord | undefined> {
    const row = await this.#db
      .selectFrom('policy_versions')
      .selectAll()
      .where('number', '=', number)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async list(): Promise<PolicyVersionRecord[]> {
    return (await this.#db.selectFrom('policy_versions').selectAll().orderBy('number').execute()).map(
      toVersion,
    );
  }
}

function toVersion(r: Selectable<PolicyVersionTable>): PolicyVersionRecord {
  return {
    number: Number(r.number),
    fingerprint: r.fingerprint,
    scope: r.scope,
    publishedAt: r.published_at,
    requiresReconsent: Number(r.requires_reconsent) === 1,
    reconsentPurposes: JSON.parse(r.reconsent_purposes) as string[],
  };
}
