/**
 * `import-batch`: what it costs to hand batches between the file importer's threads
 * (src/services/import-batch.ts), per row, through a real `MessageChannel`, each against the
 * baseline of the importer's way before, in the same process:
 *
 * - `prepared`: a prepared batch, worker → main thread, encoded as columns, against its rows
 *   posted as objects (structured clone of each record without its values);
 * - `sealed`: the batch's envelopes, worker → main thread, in one buffer, against one Buffer each;
 * - `sealing`: sealing the batch in the worker, each envelope in place in the batch's one buffer
 *   (`sealPlanned`), against sealing each field into an envelope of its own and copying them
 *   into each record's value, then into one buffer to cross.
 *
 * For the crossings, both sides are timed apart, as they load different threads: `postUsPerRow`
 * (encode and post, the worker's side) and `receiveUsPerRow` (receive and decode, the main
 * thread's). Rounds alternate; the median of each side is kept, the first two rounds left out.
 *
 * The batch is the importer's: 1,000 synthetic orders, each an order record keyed on OAID and
 * member id and a delivery address, prepared by `prepareCollect` under the default data map and
 * sealed by `sealPlanned` under a key per buyer.
 */
import { createSecretKey, randomBytes } from 'node:crypto';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';

import { parseConfig } from '../src/config/load.js';
import { configTemplate } from '../src/config/template.js';
import { BlindIndexer } from '../src/crypto/blind-index.js';
import { generateCustomers } from '../src/domain/synthetic/index.js';
import { PooledNonceSource, suiteById } from '../src/crypto/aead.js';
import { sealField, type FieldContext } from '../src/crypto/envelope.js';
import { uuidv7 } from '../src/crypto/uuid.js';
import type { SubjectKey } from '../src/keys/keyring.js';
import {
  asBuffer,
  collectionSpec,
  identityContext,
  prepareCollect,
  sealPlanned,
  unpackSealed,
  type CollectInput,
  type CollectMeta,
  type PackedSealed,
  type PreparedCollect,
  type SealedBatch,
  type SealOrder,
} from '../src/services/collect-plan.js';
import { decodeRows, encodeRows, type RowMeta } from '../src/services/import-batch.js';
import { encodeSealedFields } from '../src/services/sealed-record.js';
import { addressFields } from './ingest/rows.js';
import { environment, note, ratio } from './lib/out.js';

const ROWS = 1000;
const ROUNDS = 31;
const BATCHES_PER_ROUND = 20;
const SEAL_BATCHES_PER_ROUND = 2;

/** A batch as the importer's worker prepares it. */
function importBatch(): RowMeta[] {
  const { datamap } = parseConfig(
    configTemplate({ suite: 'aes-256-gcm', storeName: 'bench' }),
    'custodian.yaml',
    {},
  );
  const indexer = new BlindIndexer({
    current: { version: 1, suite: 'aes-256-gcm', secret: createSecretKey(randomBytes(32)) },
  });
  const prepare = (input: CollectInput) =>
    prepareCollect(datamap, indexer, collectionSpec(datamap, input.collection), input);
  return generateCustomers('bench-import-batch', ROWS).map((c, i): RowMeta => {
    const orderId = String(3477832381887116968n + BigInt(i) * 7919n);
    return {
      kind: 'order',
      ordinal: i + 1,
      orderId,
      keyed: true,
      drops: {},
      records: [
        prepare({
          collection: 'order',
          purpose: 'order-fulfilment',
          source: 'tmall:export',
          identities: { oaid: c.oaid, memberId: c.buyerOpenUid },
          fields: {
            orderId,
            createdAt: '2025-12-26 20:24:18',
            amount: '638.99',
            status: '等待买家付款',
            itemTitle: '【官方旗舰】禾风羽绒服女中长款白鸭绒加厚',
            buyerMessage: '请尽快发货',
            buyerNick: c.nick,
          },
        }),
        prepare({
          collection: 'address',
          purpose: 'order-fulfilment',
          source: 'tmall:export',
          subjectOf: 0,
          fields: addressFields(c),
        }),
      ],
    };
  });
}

/**
 * The baseline's rows: what the worker posted before, each prepared record copied without the
 * values to seal (identity values included), as it did.
 */
function withoutValues(rows: readonly RowMeta[]): RowMeta[] {
  return rows.map((row) =>
    row.kind === 'reject'
      ? row
      : {
          ...row,
          records: row.records.map((p): CollectMeta => ({
            collection: p.collection,
            purpose: p.purpose,
            source: p.source,
            subjectId: p.subjectId,
            subjectOf: p.subjectOf,
            given: p.given,
            identities: p.identities.map((i) => ({ kind: i.kind, current: i.current, lookups: i.lookups })),
            fieldNames: p.fieldNames,
            plain: p.plain,
            sensitive: p.sensitive,
            stripped: p.stripped,
            screened: p.screened,
          })),
        },
  );
}

interface Side {
  readonly post: (port: MessagePort) => void;
  readonly receive: (message: unknown) => number;
}

/** Microseconds per row to post, then to receive, {@link BATCHES_PER_ROUND} batches. */
function round(side: Side): { post: number; receive: number } {
  const { port1, port2 } = new MessageChannel();
  try {
    let sink = 0;
    const started = process.hrtime.bigint();
    for (let i = 0; i < BATCHES_PER_ROUND; i++) side.post(port1);
    const posted = process.hrtime.bigint();
    for (let i = 0; i < BATCHES_PER_ROUND; i++) sink += side.receive(receiveMessageOnPort(port2)!.message);
    const received = process.hrtime.bigint();
    if (sink !== BATCHES_PER_ROUND * ROWS) throw new Error('a batch came back short');
    const perRow = (ns: bigint): number => Number(ns) / 1000 / (BATCHES_PER_ROUND * ROWS);
    return { post: perRow(posted - started), receive: perRow(received - posted) };
  } finally {
    port1.close();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)]! * 100) / 100;
}

/** The batch's records planned as the main thread plans them: a subject and key per order. */
function plannedBatch(rows: readonly RowMeta[]): { prepared: PreparedCollect[]; order: SealOrder } {
  const prepared: PreparedCollect[] = [];
  const subjects: SealOrder['subjects'][number][] = [];
  const writes: { record: number; identity: number }[] = [];
  for (const row of rows) {
    if (row.kind === 'reject') continue;
    const subjectId = uuidv7();
    const subject = {
      subjectId,
      key: { subjectId, version: 1, suite: SUITE.id, key: createSecretKey(randomBytes(32)) },
      created: true,
    };
    for (const record of row.records as readonly PreparedCollect[]) {
      record.identities.forEach((_, identity) => writes.push({ record: prepared.length, identity }));
      prepared.push(record);
      subjects.push(subject);
    }
  }
  return { prepared, order: { subjects, recordIds: prepared.map(() => uuidv7()), writes } };
}

const SUITE = suiteById('aes-256-gcm');

/**
 * The baseline's sealing, as the worker sealed before: each field sealed into an envelope of its
 * own, each record's envelopes copied into its `records.sealed` value, and the batch's values
 * copied into one buffer to cross.
 */
function sealedOneByOne({ prepared, order }: ReturnType<typeof plannedBatch>): SealedBatch {
  const nonces = new PooledNonceSource();
  const seal = (value: string, key: SubjectKey, context: FieldContext): Buffer =>
    sealField(value, { suite: SUITE, key: key.key, keyVersion: key.version, context, nonces });
  const records = prepared.map((p, i) => {
    const { subjectId, key } = order.subjects[i]!;
    const envelopes = new Map<string, Buffer>();
    for (const field in p.sealed)
      envelopes.set(
        field,
        seal(p.sealed[field]!, key, {
          subjectId,
          collection: p.collection,
          recordId: order.recordIds[i]!,
          field,
        }),
      );
    return encodeSealedFields(envelopes);
  });
  const identities = order.writes.map((w) => {
    const { subjectId, key } = order.subjects[w.record]!;
    const identity = prepared[w.record]!.identities[w.identity]!;
    return seal(identity.normalized, key, identityContext(subjectId, identity.kind, identity.current.token));
  });
  return { records, identities };
}

/** The baseline's packing for the crossing, once its records were sealed. */
function packed(sealed: SealedBatch): PackedSealed {
  const all = [...sealed.records, ...sealed.identities];
  const ends = new Uint32Array(all.length);
  let at = 0;
  all.forEach((b, i) => (ends[i] = at += b.length));
  return { bytes: Buffer.concat(all, at), ends, records: sealed.records.length };
}

/**
 * Microseconds per row to seal a planned batch, the baseline's way ({@link sealedOneByOne} and
 * packed) against `sealPlanned`'s (in place, in one buffer), in alternating rounds.
 */
function compareSealing(batch: ReturnType<typeof plannedBatch>): Record<string, unknown> {
  const settings = { suite: SUITE, nonces: new PooledNonceSource() };
  const sides = {
    baseline: () => packed(sealedOneByOne(batch)).bytes.length,
    inPlace: () => sealPlanned(batch.prepared, batch.order, settings).bytes.length,
  };
  if (sides.baseline() !== sides.inPlace()) throw new Error('the two ways sealed different sizes');
  const samples = { baseline: [] as number[], inPlace: [] as number[] };
  for (let r = 0; r < ROUNDS; r++)
    for (const side of ['baseline', 'inPlace'] as const) {
      const started = process.hrtime.bigint();
      for (let i = 0; i < SEAL_BATCHES_PER_ROUND; i++) sides[side]();
      samples[side].push(Number(process.hrtime.bigint() - started) / 1000 / (SEAL_BATCHES_PER_ROUND * ROWS));
    }
  const baseline = median(samples.baseline.slice(2));
  const inPlace = median(samples.inPlace.slice(2));
  return {
    baseline: { usPerRow: baseline },
    inPlace: { usPerRow: inPlace },
    ratio: ratio(inPlace, baseline),
  };
}

type Pair = Record<'baseline' | 'candidate', Side>;

/** Alternating rounds of a pair; the median of each side, the first two rounds left out. */
function compare(name: string, pair: Pair): Record<string, unknown> {
  const samples = {
    baseline: [] as { post: number; receive: number }[],
    candidate: [] as { post: number; receive: number }[],
  };
  for (let r = 0; r < ROUNDS; r++)
    for (const side of ['baseline', 'candidate'] as const) samples[side].push(round(pair[side]));
  const summary = (side: 'baseline' | 'candidate') => ({
    postUsPerRow: median(samples[side].slice(2).map((s) => s.post)),
    receiveUsPerRow: median(samples[side].slice(2).map((s) => s.receive)),
  });
  const baseline = summary('baseline');
  const candidate = summary('candidate');
  return {
    baseline,
    [name]: candidate,
    ratio: {
      post: ratio(candidate.postUsPerRow, baseline.postUsPerRow),
      receive: ratio(candidate.receiveUsPerRow, baseline.receiveUsPerRow),
    },
  };
}

export function importBatchBench(): Record<string, unknown> {
  const rows = importBatch();
  const batch = plannedBatch(rows);
  const sealed = sealPlanned(batch.prepared, batch.order, { suite: SUITE });
  // Each value a Buffer of its own: slices of Buffer's shared pool, among the sealing's garbage.
  const envelopes = sealedOneByOne(batch);
  const orders = (records: number): number => records / 2;
  note(`import-batch: ${ROWS} rows a batch, ${BATCHES_PER_ROUND} batches a round, ${ROUNDS} rounds each way`);
  return {
    bench: 'import-batch',
    rows: ROWS,
    // The prepared batch, worker → main thread: the rows as objects, or as columns.
    prepared: compare('encoded', {
      baseline: {
        post: (port) => port.postMessage(withoutValues(rows)),
        receive: (m) => (m as RowMeta[]).length,
      },
      candidate: {
        post: (port) => port.postMessage(encodeRows(rows)),
        receive: (m) => decodeRows(m as never).length,
      },
    }),
    // The sealed batch, worker → main thread: one Buffer per envelope, or all in one.
    sealed: compare('packed', {
      baseline: {
        post: (port) => port.postMessage(envelopes),
        receive: (m) => {
          const { records, identities } = m as SealedBatch;
          identities.map(asBuffer);
          return orders(records.map(asBuffer).length);
        },
      },
      candidate: {
        post: (port) => port.postMessage(sealed),
        receive: (m) => orders(unpackSealed(m as PackedSealed).records.length),
      },
    }),
    // Sealing the batch in the worker: field by field into envelopes of their own, then copied
    // into one buffer; or each envelope sealed in place in the batch's one buffer.
    sealing: compareSealing(batch),
    ...environment(),
  };
}
