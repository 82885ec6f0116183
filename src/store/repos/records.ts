import type { Kysely, Selectable } from 'kysely';
import type {
  IdentityLookup,
  IdentityMatch,
  IdentityRecord,
  IdentityRepository,
  RecordRepository,
  RecordRow,
} from '../store.js';
import type { Database, IdentityTable, RecordTable } from '../types.js';
import { keyChunks } from './chunks.js';
import { BulkInsert } from './insert.js';

export class KyselyIdentityRepository implements IdentityRepository {
  readonly #db: Kysely<Database>;
  readonly #insert: BulkInsert<'identities', IdentityRecord>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#insert = new BulkInsert(db, {
      table: 'identities',
      columns: ['subject_id', 'kind', 'index_version', 'token', 'sealed', 'key_version', 'created_at'],
      values: (r) => [r.subjectId, r.kind, r.indexVersion, r.token, r.sealed, r.keyVersion, r.createdAt],
      skipDuplicatesOf: ['kind', 'index_version', 'token', 'subject_id'],
    });
  }

  async insertMany(rows: readonly IdentityRecord[]): Promise<void> {
    await this.#insert.run(rows);
  }

  async findSubjects(lookups: readonly IdentityLookup[]): Promise<IdentityMatch[]> {
    // One `token in (…)` list per kind and index version: a few list sizes, statements that stay
    // prepared, and one bound parameter per lookup instead of three.
    const groups = new Map<string, { kind: string; indexVersion: number; tokens: Buffer[] }>();
    for (const l of lookups) {
      const key = `${l.kind}|${l.indexVersion}`;
      const group = groups.get(key);
      if (group === undefined)
        groups.set(key, { kind: l.kind, indexVersion: l.indexVersion, tokens: [l.token] });
      else group.tokens.push(l.token);
    }
    const matches: IdentityMatch[] = [];
    for (const { kind, indexVersion, tokens } of groups.values())
      for (const slice of keyChunks(tokens)) {
        const rows = await this.#db
          .selectFrom('identities')
          .select(['subject_id', 'token'])
          .where('kind', '=', kind)
          .where('index_version', '=', indexVersion)
          .where('token', 'in', slice)
          .execute();
        for (const r of rows)
          matches.push({ subjectId: r.subject_id, kind, indexVersion, token: Buffer.from(r.token) });
      }
    return matches.sort((a, b) => (a.subjectId < b.subjectId ? -1 : a.subjectId > b.subjectId ? 1 : 0));
  }

  async listForSubject(subjectId: string): Promise<IdentityRecord[]> {
    const rows = await this.#db
      .selectFrom('identities')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .execute();
    return rows.map(toIdentity);
  }

  async deleteForSubject(subjectId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('identities')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async replaceForSubject(subjectId: string, rows: readonly IdentityRecord[]): Promise<void> {
    await this.deleteForSubject(subjectId);
    await this.insertMany(rows);
  }

  async versionCounts(): Promise<{ indexVersion: number; rows: number }[]> {
    const rows = await this.#db
      .selectFrom('identities')
      .select(['index_version', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('index_version')
      .orderBy('index_version')
      .execute();
    return rows.map((r) => ({ indexVersion: Number(r.index_version), rows: Number(r.n) }));
  }

  async subjectsOnOtherVersions(current: number, after: string, limit: number): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('identities')
      .select('subject_id')
      .distinct()
      .where('index_version', '<>', current)
      .where('subject_id', '>', after)
      .orderBy('subject_id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.subject_id);
  }
}

function toIdentity(row: Selectable<IdentityTable>): IdentityRecord {
  return {
    subjectId: row.subject_id,
    kind: row.kind,
    indexVersion: Number(row.index_version),
    token: Buffer.from(row.token),
    sealed: Buffer.from(row.sealed),
    keyVersion: Number(row.key_version),
    createdAt: row.created_at,
  };
}

export class KyselyRecordRepository implements RecordRepository {
  readonly #db: Kysely<Database>;
  readonly #insert: BulkInsert<'records', RecordRow>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#insert = new BulkInsert(db, {
      table: 'records',
      columns: [
        'id',
        'subject_id',
        'collection',
        'key_version',
        'sealed',
        'plain',
        'purpose',
        'source',
        'created_at',
        'updated_at',
      ],
      values: (r) => [
        r.id,
        r.subjectId,
        r.collection,
        r.keyVersion,
        r.sealed,
        r.plain === null ? null : JSON.stringify(r.plain),
        r.purpose,
        r.source,
        r.createdAt,
        r.updatedAt,
      ],
    });
  }

  async insert(record: RecordRow): Promise<void> {
    await this.insertMany([record]);
  }

  async insertMany(records: readonly RecordRow[]): Promise<void> {
    await this.#insert.run(records);
  }

  async listForSubject(subjectId: string): Promise<RecordRow[]> {
    const rows = await this.#db
      .selectFrom('records')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toRecord);
  }

  async reseal(id: string, keyVersion: number, sealed: Buffer, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('records')
      .set({ key_version: keyVersion, sealed, updated_at: at })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteForSubject(subjectId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('records')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRecord(row: Selectable<RecordTable>): RecordRow {
  return {
    id: row.id,
    subjectId: row.subject_id,
    collection: row.collection,
    keyVersion: Number(row.key_version),
    sealed: Buffer.from(row.sealed),
    plain: row.plain === null ? null : (JSON.parse(row.plain) as Record<string, string>),
    purpose: row.purpose,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
