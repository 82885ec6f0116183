/**
 * Orders from the Taobao Open Platform into the vault: the incremental order sync (through the
 * same writer as the file importer, so an order seen in an export and in the sync is stored once)
 * and OAID decryption for one scene, whose result goes straight into the vault for the scene's
 * purpose and nowhere else (R30).
 */

import { createHash } from 'node:crypto';
import type { AccessPolicy } from '../../domain/access/engine.js';
import { CustodianError } from '../../domain/errors.js';
import { isPlatformMasked } from '../../domain/pii/validators.js';
import { ORDER_STATUSES } from '../../domain/synthetic/index.js';
import {
  emptyCounts,
  ImportWriter,
  TMALL_SOURCE,
  type ImportCounts,
  type ImporterDeps,
} from '../../services/importer.js';
import type { Principal } from '../../services/tokens.js';
import type { CollectInput } from '../../services/vault.js';
import type { ImportRunRecord } from '../../store/imports.js';
import { uuidv7 } from '../../crypto/uuid.js';
import { ADDRESS_PARTS, planColumns, type ColumnPlan, type ImportMap } from './mapping.js';
import { normaliseRow, rejectRow, type NormalisedRow } from './rows.js';
import { SCENES, type SceneCode } from './rules.js';
import type { TopClient, TopTrade } from './top.js';
import { classifyPhone } from './values.js';
import { splitAddress } from './address.js';

/** `records.source` of what the sync and the decryption collect. */
export const TOP_RECORD_SOURCE = 'tmall:top';
export const DECRYPT_RECORD_SOURCE = 'tmall:top-decrypt';

/** The trade fields the sync reads, as columns of a virtual export. */
const TRADE_COLUMNS = [
  'tid',
  'buyer_nick',
  'receiver_name',
  'receiver_address_full',
  'receiver_mobile',
  'receiver_phone',
  'buyer_message',
  'created',
  'pay_time',
  'payment',
  'status',
  'title',
  'oaid',
  'buyer_open_uid',
] as const;

const TRADE_MAP: ImportMap = {
  columns: {
    tid: 'orderId',
    buyer_nick: 'buyerNick',
    receiver_name: 'recipientName',
    receiver_address_full: 'address',
    receiver_mobile: 'mobile',
    receiver_phone: 'phone',
    buyer_message: 'buyerMessage',
    created: 'createdAt',
    pay_time: 'paidAt',
    payment: 'amount',
    status: 'status',
    title: 'itemTitle',
    oaid: 'oaid',
    buyer_open_uid: 'openUid',
  },
  fields: {},
};

/**
 * The order id of a trade as text, or `undefined` when TOP sent it only as a number too large to
 * be exact. `tid` is a JSON number, which `response.json()` rounds above 2^53: today's 18–19 digit
 * ids would come out as a neighbour's (`3563214785236987456` → `…7400`), so the sync asks for
 * `tid_str`, TOP's string form of `tid`, and uses it. A numeric `tid` alone is accepted only while
 * it is a safe integer. An absent id is `''` (refused as `order-id-missing` by `normaliseRow`).
 */
export function tradeOrderId(t: TopTrade): string | undefined {
  const text = typeof t.tid_str === 'string' ? t.tid_str.trim() : '';
  if (text !== '') return text;
  if (typeof t.tid === 'string') return t.tid;
  if (typeof t.tid === 'number') return Number.isSafeInteger(t.tid) ? String(t.tid) : undefined;
  return '';
}

function tradeCells(t: TopTrade, orderId: string): string[] {
  const address = [
    t.receiver_state,
    t.receiver_city,
    t.receiver_district,
    `${t.receiver_town ?? ''}${t.receiver_address ?? ''}`,
  ]
    .map((p) => (p ?? '').trim())
    .filter((p) => p !== '')
    .join(' ');
  const status =
    t.status === undefined ? '' : ((ORDER_STATUSES as Record<string, string>)[t.status] ?? t.status);
  return [
    orderId,
    t.buyer_nick ?? '',
    t.receiver_name ?? '',
    address,
    t.receiver_mobile ?? '',
    t.receiver_phone ?? '',
    t.buyer_message ?? '',
    t.created ?? '',
    t.pay_time ?? '',
    t.payment ?? t.total_fee ?? '',
    status,
    t.title ?? '',
    t.oaid ?? '',
    t.buyer_open_uid ?? '',
  ];
}

export interface SyncSummary {
  readonly runId: string;
  readonly pages: number;
  readonly counts: ImportCounts;
}

/**
 * Imports the trades modified in `[start, end)`, page by page, each page one unit of work.
 * Orders imported before (from an export or an earlier sync) are skipped: records are never
 * rewritten, so a later status change is not tracked here.
 */
export async function syncTmallOrders(
  deps: ImporterDeps,
  principal: Principal,
  client: TopClient,
  window: { readonly start: Date; readonly end: Date; readonly pageSize?: number; readonly purpose?: string },
): Promise<SyncSummary> {
  const plan: ColumnPlan = planColumns(
    TRADE_COLUMNS,
    { ...TRADE_MAP, ...(window.purpose ? { purpose: window.purpose } : {}) },
    deps.datamap,
  );
  const at = deps.now().toISOString();
  const run: ImportRunRecord = {
    id: uuidv7(),
    source: TMALL_SOURCE,
    fileSha256: createHash('sha256')
      .update(`top:${window.start.toISOString()}/${window.end.toISOString()}`)
      .digest('hex'),
    settings: JSON.stringify({ v: 1, top: true, purpose: plan.purpose }),
    format: 'top',
    encoding: 'json',
    startedAt: at,
    updatedAt: at,
    finishedAt: null,
    checkpoint: 0,
    counts: JSON.stringify(emptyCounts()),
  };
  await deps.store.transaction((tx) => tx.imports.insertRun(run));
  const writer = new ImportWriter(deps, principal, {
    source: TMALL_SOURCE,
    recordSource: TOP_RECORD_SOURCE,
    plan,
    run,
    counts: emptyCounts(),
  });
  let ordinal = 0;
  let pages = 0;
  for await (const page of client.trades(window, window.pageSize ?? 100)) {
    pages++;
    const rows: NormalisedRow[] = page.trades.map((t) => {
      const orderId = tradeOrderId(t);
      // An id that lost precision is refused like a bad id in an export: never stored as another's.
      return orderId === undefined
        ? rejectRow(++ordinal, page.pageNo, ['order-id-invalid'], ['tid'])
        : normaliseRow(plan, ++ordinal, page.pageNo, tradeCells(t, orderId));
    });
    await writer.write(rows);
  }
  const finishedAt = deps.now().toISOString();
  await deps.store.transaction((tx) =>
    tx.imports.updateRun(run.id, {
      checkpoint: ordinal,
      counts: JSON.stringify(writer.counts),
      updatedAt: finishedAt,
      finishedAt,
    }),
  );
  return { runId: run.id, pages, counts: writer.counts };
}

export interface DecryptDeps extends ImporterDeps {
  readonly policy: Pick<AccessPolicy, 'permitsPurpose'>;
}

export interface DecryptRequest {
  readonly scene: SceneCode;
  /** The purpose the decrypted data is for: it must be the scene's (R30). */
  readonly purpose: string;
  readonly orders: readonly { readonly tid: string; readonly oaid: string }[];
  /** The collection the receiver goes to (default `address`). */
  readonly collection?: string;
}

export interface DecryptSummary {
  readonly requested: number;
  /** Receivers collected into the vault. */
  readonly collected: number;
  /** Receivers TOP reported as not matching the order's current OAID (not collected). */
  readonly unmatched: number;
  /**
   * Receivers TOP returned with a `desensitize_rule` (e.g. `DECRYPTION_DISABLED_BY_ORDERCLOSED`):
   * their values are not the real ones, so nothing of them is collected.
   */
  readonly desensitized: number;
  /** Values left out of collected receivers, by kind, as the importer counts them (`dropped`). */
  readonly dropped: { readonly masked: number };
  readonly subjects: { readonly new: number; readonly linked: number };
}

/**
 * Decrypts the receivers of `orders` under `scene` and collects them into the vault for
 * `purpose`, keyed on the OAID, in one unit of work. Only the fields the scene returns and the
 * purpose needs are kept; a privacy number never becomes the buyer's phone. TOP may answer with
 * masked values (`张*`, `138****1234`, `****`; regulation.md §7.2): each is dropped and counted,
 * and a receiver with a `desensitize_rule` is skipped whole (R30: only real values, and only for
 * the scene, reach the vault). The clear values exist only in memory between TOP's answer and the
 * vault's seal. Refused before anything is sent when the scene does not serve the purpose
 * (`ERR_TMALL_SCENE_PURPOSE`) or the principal may not act for it (`ERR_PURPOSE_NOT_PERMITTED`).
 */
export async function decryptIntoVault(
  deps: DecryptDeps,
  principal: Principal,
  client: TopClient,
  request: DecryptRequest,
): Promise<DecryptSummary> {
  if (!deps.policy.permitsPurpose(principal.role, request.purpose))
    throw new CustodianError(
      'ERR_PURPOSE_NOT_PERMITTED',
      `role "${principal.role}" may not act for purpose "${request.purpose}"`,
      {
        details: { role: principal.role, purpose: request.purpose },
      },
    );
  const collection = request.collection ?? 'address';
  const spec = deps.datamap.collections[collection];
  const needed = (field: string): boolean => spec?.fields[field]?.purposes[request.purpose] !== undefined;
  const wanted = new Set<string>(SCENES[request.scene].fields);
  const receivers = await client.decryptOaid(
    request.purpose,
    request.orders.map((o) => ({ oaid: o.oaid, tid: o.tid, scene: request.scene })),
  );
  const inputs: CollectInput[] = [];
  let unmatched = 0;
  let desensitized = 0;
  let masked = 0;
  for (const r of receivers) {
    if (r.matched === false) {
      unmatched++;
      continue;
    }
    // regulation.md §7.2: a receiver may carry a `desensitize_rule`; its values are then not the
    // real ones (masked or withheld), so nothing of it is stored (R30).
    if (typeof r.desensitize_rule === 'string' && r.desensitize_rule.trim() !== '') {
      desensitized++;
      continue;
    }
    const fields: Record<string, string> = {};
    /** A value the purpose needs: dropped (counted) when masked upstream, never stored as real (R30). */
    const put = (field: string, value: string | undefined): void => {
      const v = value?.trim() ?? '';
      if (v === '' || !needed(field)) return;
      if (isPlatformMasked(v)) masked++;
      else fields[field] = v;
    };
    if (wanted.has('name')) put('recipientName', r.name);
    if (wanted.has('mobile')) {
      for (const number of [r.mobile, r.phone]) {
        if (number === undefined || number.trim() === '') continue;
        const kind = classifyPhone(number);
        const privacy = kind.kind === 'virtual' || (r.privacy_protection === true && number === r.mobile);
        if (kind.kind === 'masked') {
          if (needed(privacy ? 'privacyNumber' : 'phone')) masked++;
        } else if (privacy) put('privacyNumber', kind.kind === 'virtual' ? kind.value : number);
        else if (kind.kind === 'mobile' || kind.kind === 'landline')
          put('phone', fields['phone'] ?? kind.value);
      }
    }
    if (wanted.has('address')) {
      const split = splitAddress(
        [r.state, r.city, r.district, `${r.town ?? ''}${r.address_detail ?? ''}`].filter((p) => p).join(' '),
      );
      if (split.ok) for (const part of ADDRESS_PARTS) put(part, split.address[part]);
      else put('street', split.street);
    }
    if (Object.keys(fields).length === 0) continue;
    inputs.push({
      collection,
      fields,
      purpose: request.purpose,
      identities: { oaid: r.oaid },
      source: DECRYPT_RECORD_SOURCE,
    });
  }
  const results = inputs.length > 0 ? await deps.vault.collectMany(principal, inputs) : [];
  return {
    requested: request.orders.length,
    collected: results.length,
    unmatched,
    desensitized,
    dropped: { masked },
    subjects: {
      new: results.filter((r) => r.created).length,
      linked: results.filter((r) => !r.created).length,
    },
  };
}
