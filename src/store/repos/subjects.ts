import { sql, type Kysely, type Selectable } from 'kysely';
import type {
  KeyStats,
  RotationRecord,
  RotationRepository,
  SubjectKeyRecord,
  SubjectKeyRepository,
  SubjectRecord,
  SubjectRepository,
} from '../store.js';
import type { Database, KeyRotationTable, SubjectKeyTable, SubjectTable } from '../types.js';
import { keyChunks } from './chunks.js';
import { BulkInsert } from './insert.js';

type NewSubject = { readonly id: string; readonly createdAt: string };

export class KyselySubjectRepository implements SubjectRepository {
  readonly #db: Kysely<Database>;
  readonly #rowLocks: boolean;
  readonly #insert: BulkInsert<'subjects', NewSubject>;
  constructor(db: Kysely<Database>, rowLocks: boolean) {
    this.#db = db;
    this.#rowLocks = rowLocks;
    this.#insert = new BulkInsert(db, {
      table: 'subjects',
      columns: ['id', 'created_at', 'erased_at'],
      values: (s) => [s.id, s.createdAt, null],
    });
  }

  async lock(id: string): Promise<void> {
    if (!this.#rowLocks) return;
    await this.#db.selectFrom('subjects').select('id').where('id', '=', id).forUpdate().execute();
  }

  async lockMany(ids: readonly string[]): Promise<void> {
    if (!this.#rowLocks) return;
    for (const slice of keyChunks([...new Set(ids)].sort()))
      await this.#db
        .selectFrom('subjects')
        .select('id')
        .where('id', 'in', slice)
        .orderBy('id')
        .forUpdate()
        .execute();
  }

  async insert(subject: { readonly id: string; readonly createdAt: string }): Promise<void> {
    await this.insertMany([subject]);
  }

  async insertMany(subjects: readonly NewSubject[]): Promise<void> {
    await this.#insert.run(subjects);
  }

  async get(id: string): Promise<SubjectRecord | undefined> {
    const row = await this.#db.selectFrom('subjects').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSubject(row);
  }

  async getMany(ids: readonly string[]): Promise<SubjectRecord[]> {
    const found: SubjectRecord[] = [];
    for (const slice of keyChunks([...new Set(ids)])) {
      const rows = await this.#db.selectFrom('subjects').selectAll().where('id', 'in', slice).execute();
      for (const row of rows) found.push(toSubject(row));
    }
    return found;
  }

  async markErased(id: string, at: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('subjects')
      .set({ erased_at: at })
      .where('id', '=', id)
      .where('erased_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async count(): Promise<{ active: number; erased: number }> {
    const row = await this.#db
      .selectFrom('subjects')
      .select([
        sql<number>`count(*) filter (where erased_at is null)`.as('active'),
        sql<number>`count(*) filter (where erased_at is not null)`.as('erased'),
      ])
      .executeTakeFirstOrThrow();
    return { active: Number(row.active), erased: Number(row.erased) };
  }

  async activeAfter(after: string, limit: number): Promise<SubjectRecord[]> {
    const rows = await this.#db
      .selectFrom('subjects')
      .selectAll()
      .where('id', '>', after)
      .where('erased_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toSubject);
  }
}

function toSubject(row: Selectable<SubjectTable>): SubjectRecord {
  return { id: row.id, createdAt: row.created_at, erasedAt: row.erased_at };
}

export class KyselySubjectKeyRepository implements SubjectKeyRepository {
  readonly #db: Kysely<Database>;
  readonly #insert: BulkInsert<'subject_keys', SubjectKeyRecord>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
    this.#insert = new BulkInsert(db, {
      table: 'subject_keys',
      columns: ['subject_id', 'version', 'suite', 'root_key_id', 'wrapped', 'created_at'],
      values: (k) => [k.subjectId, k.version, k.suite, k.rootKeyId, k.wrapped, k.createdAt],
    });
  }

  async insert(key: SubjectKeyRecord): Promise<void> {
    await this.insertMany([key]);
  }

  async insertMany(keys: readonly SubjectKeyRecord[]): Promise<void> {
    await this.#insert.run(keys);
  }

  async currentMany(subjectIds: readonly string[]): Promise<SubjectKeyRecord[]> {
    const newest = new Map<string, SubjectKeyRecord>();
    for (const slice of keyChunks([...new Set(subjectIds)])) {
      const rows = await this.#db
        .selectFrom('subject_keys')
        .selectAll()
        .where('subject_id', 'in', slice)
        .execute();
      for (const row of rows) {
        const key = toKey(row);
        if ((newest.get(key.subjectId)?.version ?? 0) < key.version) newest.set(key.subjectId, key);
      }
    }
    return [...newest.values()];
  }

  async current(subjectId: string): Promise<SubjectKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('subject_keys')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toKey(row);
  }

  async get(subjectId: string, version: number): Promise<SubjectKeyRecord | undefined> {
    const row = await this.#db
      .selectFrom('subject_keys')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toKey(row);
  }

  async rewrap(subjectId: string, version: number, wrapped: Buffer, rootKeyId: string): Promise<boolean> {
    const result = await this.#db
      .updateTable('subject_keys')
      .set({ wrapped, root_key_id: rootKeyId })
      .where('subject_id', '=', subjectId)
      .where('version', '=', version)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async wrappedByOtherRoots(rootKeyId: string, after: string, limit: number): Promise<SubjectKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('subject_keys')
      .selectAll()
      .where('root_key_id', '<>', rootKeyId)
      .where('subject_id', '>', after)
      .orderBy('subject_id')
      .orderBy('version')
      .limit(limit)
      .execute();
    return rows.map(toKey);
  }

  async deleteVersion(subjectId: string, version: number): Promise<number> {
    const result = await this.#db
      .deleteFrom('subject_keys')
      .where('subject_id', '=', subjectId)
      .where('version', '=', version)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async deleteForSubject(subjectId: string): Promise<number> {
    const result = await this.#db
      .deleteFrom('subject_keys')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async stats(): Promise<KeyStats> {
    const totals = await this.#db
      .selectFrom('subject_keys')
      .select([
        sql<number>`count(*)`.as('keys'),
        sql<number>`count(distinct subject_id)`.as('subjects'),
        sql<string | null>`min(created_at)`.as('oldest'),
        sql<string | null>`max(created_at)`.as('newest'),
      ])
      .executeTakeFirstOrThrow();
    const byRoot = await this.#db
      .selectFrom('subject_keys')
      .select(['root_key_id', sql<number>`count(*)`.as('keys')])
      .groupBy('root_key_id')
      .orderBy('root_key_id')
      .execute();
    const bySuite = await this.#db
      .selectFrom('subject_keys')
      .select(['suite', sql<number>`count(*)`.as('keys')])
      .groupBy('suite')
      .orderBy('suite')
      .execute();
    const byVersion = await this.#db
      .selectFrom('subject_keys')
      .select(['version', sql<number>`count(*)`.as('keys')])
      .groupBy('version')
      .orderBy('version')
      .execute();
    return {
      keys: Number(totals.keys),
      subjects: Number(totals.subjects),
      oldest: totals.oldest,
      newest: totals.newest,
      byRoot: byRoot.map((r) => ({ rootKeyId: r.root_key_id, keys: Number(r.keys) })),
      bySuite: bySuite.map((r) => ({ suite: r.suite, keys: Number(r.keys) })),
      byVersion: byVersion.map((r) => ({ version: Number(r.version), keys: Number(r.keys) })),
    };
  }
}

function toKey(row: Selectable<SubjectKeyTable>): SubjectKeyRecord {
  return {
    subjectId: row.subject_id,
    version: Number(row.version),
    suite: row.suite,
    rootKeyId: row.root_key_id,
    wrapped: Buffer.from(row.wrapped),
    createdAt: row.created_at,
  };
}

export class KyselyRotationRepository implements RotationRepository {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(r: RotationRecord): Promise<void> {
    await this.#db
      .insertInto('key_rotations')
      .values({
        id: r.id,
        kind: r.kind,
        cutoff: r.cutoff,
        target: r.target,
        started_at: r.startedAt,
        finished_at: r.finishedAt,
        processed: r.processed,
      })
      .execute();
  }

  async unfinished(kind: string): Promise<RotationRecord | undefined> {
    const row = await this.#db
      .selectFrom('key_rotations')
      .selectAll()
      .where('kind', '=', kind)
      .where('finished_at', 'is', null)
      .orderBy('started_at', 'desc')
      .executeTakeFirst();
    return row && toRotation(row);
  }

  async progress(id: string, processed: number, finishedAt: string | null): Promise<void> {
    await this.#db
      .updateTable('key_rotations')
      .set({ processed, finished_at: finishedAt })
      .where('id', '=', id)
      .execute();
  }

  async pinIndexSuite(version: number, suite: string, at: string): Promise<string> {
    await this.#db
      .insertInto('index_roots')
      .values({ version, suite, pinned_at: at })
      .onConflict((oc) => oc.column('version').doNothing())
      .execute();
    return (await this.indexSuite(version)) ?? suite;
  }

  async indexSuite(version: number): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('index_roots')
      .select('suite')
      .where('version', '=', version)
      .executeTakeFirst();
    return row?.suite;
  }
}

function toRotation(row: Selectable<KeyRotationTable>): RotationRecord {
  return {
    id: row.id,
    kind: row.kind,
    cutoff: row.cutoff,
    target: row.target,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    processed: Number(row.processed),
  };
}
