/**
 * The Tmall rule pack (regulation.md §7.2–7.3, R30, R31). Pure functions the TOP client, the
 * importer and the export path call; nothing here does I/O.
 *
 * - Decrypted buyer data (OAID decryption) serves only the purpose of its scene: shipping scenes
 *   1001–1009 serve fulfilment, 2001 after-sales and 2002 customer care serve customer service.
 *   Only 2002 may be mapped to another (contract-based) purpose by `tmall.scenes` (R30).
 * - Buyer order data (他人信息: name, phone, address, ID, the anonymous nick) leaves only for a
 *   registered processor (受托人) serving a fulfilment purpose; anything else is refused (R31).
 */

import type { Datamap, Purpose, Recipient } from '../../domain/datamap/schema.js';
import { CustodianError } from '../../domain/errors.js';

/** Receiver fields a decryption scene returns. */
export type ReceiverField = 'name' | 'mobile' | 'address';

/** The decryption scenes of `taobao.top.oaid.decrypt` Custodian accepts (3001, Qimen's default, is not one). */
export const SCENES = {
  1001: { meaning: 'SF e-waybill', fields: ['name', 'mobile', 'address'] },
  1002: { meaning: '"4通一达" e-waybill', fields: ['name', 'mobile', 'address'] },
  1003: { meaning: 'EMS', fields: ['name', 'mobile', 'address'] },
  1004: { meaning: 'other e-waybill', fields: ['name', 'mobile', 'address'] },
  1005: { meaning: 'offline store shipping', fields: ['name', 'mobile', 'address'] },
  1006: { meaning: 'manual waybill', fields: ['name', 'mobile', 'address'] },
  1007: { meaning: 'drop-shipping', fields: ['name', 'mobile', 'address'] },
  1008: { meaning: 'change of address', fields: ['address'] },
  1009: { meaning: 'view recipient name', fields: ['name'] },
  2001: { meaning: 'after-sales', fields: ['mobile'] },
  2002: { meaning: 'customer care', fields: ['mobile'] },
} as const satisfies Record<number, { meaning: string; fields: readonly ReceiverField[] }>;

export type SceneCode = keyof typeof SCENES;
export const SCENE_CODES = Object.keys(SCENES).map(Number) as SceneCode[];

export function isSceneCode(value: number): value is SceneCode {
  return Object.hasOwn(SCENES, value);
}

/** The purpose each scene serves unless `tmall.scenes` says otherwise (R30). */
export const DEFAULT_SCENE_PURPOSES: Readonly<Record<string, string>> = Object.freeze({
  ...Object.fromEntries(SCENE_CODES.filter((s) => s < 2000).map((s) => [String(s), 'order-fulfilment'])),
  '2001': 'customer-service',
  '2002': 'customer-service',
});

/**
 * Scenes whose purpose `tmall.scenes` may change. R30 (regulation.md §7.2) fixes what every scene
 * means: 1001–1009 are shipping (fulfilment), 2001 after-sales, 2002 customer care, and decrypted
 * buyer data never goes beyond its scene. So shipping and after-sales scenes keep their default
 * purpose; only customer care, which a merchant may declare as its own care purpose instead of
 * customer service (docs/tmall.md), can be mapped elsewhere, and only to a purpose that
 * {@link sceneOverrideProblem} accepts.
 */
export const OVERRIDABLE_SCENES: readonly string[] = ['2002'];

/**
 * Why `tmall.scenes` may not map `scene` to `purpose` (R30), or undefined when it may. Mapping a
 * scene to its default purpose is always allowed. Given the data map's purposes, an override must
 * name a declared purpose resting on the sales contract (PIPL Art. 13(2)): decrypted buyer data
 * serves the order it was decrypted for (R30), not a consent-based purpose such as marketing
 * (which the buyer may refuse, Art. 16) and not a purpose that is not declared at all.
 */
export function sceneOverrideProblem(
  scene: string,
  purpose: string,
  purposes?: readonly Pick<Purpose, 'id' | 'legalBasis'>[],
): string | undefined {
  const fixed = DEFAULT_SCENE_PURPOSES[scene];
  if (fixed === undefined || purpose === fixed) return undefined;
  if (!OVERRIDABLE_SCENES.includes(scene))
    return `scene ${scene} (${SCENES[Number(scene) as SceneCode].meaning}) serves "${fixed}" only (R30); only customer care (2002) may serve another purpose`;
  if (purposes === undefined) return undefined;
  const declared = purposes.find((p) => p.id === purpose);
  if (declared === undefined) return `unknown purpose "${purpose}"`;
  if (declared.legalBasis !== 'contract')
    return `purpose "${purpose}" rests on ${declared.legalBasis}, not the sales contract: decrypted buyer data serves only the order (R30)`;
  return undefined;
}

/** The purpose a scene serves under this scene map, if it serves any. */
export function scenePurpose(scene: number, scenes: Readonly<Record<string, string>>): string | undefined {
  return isSceneCode(scene) ? scenes[String(scene)] : undefined;
}

/**
 * Refuses (`ERR_TMALL_SCENE_PURPOSE`) to decrypt or use buyer data under `scene` for anything
 * but the purpose the scene serves (R30). Called before a decryption request leaves.
 */
export function assertScenePurpose(
  scene: number,
  purpose: string,
  scenes: Readonly<Record<string, string>>,
): void {
  const serves = scenePurpose(scene, scenes);
  if (serves === undefined)
    throw new CustodianError(
      'ERR_TMALL_SCENE_PURPOSE',
      `scene ${scene} is not a decryption scene Custodian uses`,
      {
        details: { scene, purpose },
      },
    );
  if (serves !== purpose)
    throw new CustodianError(
      'ERR_TMALL_SCENE_PURPOSE',
      `scene ${scene} serves "${serves}", not "${purpose}": decrypted buyer data is used only for its scene's purpose`,
      { details: { scene, purpose, serves } },
    );
}

/** Categories that are buyer "他人信息" under the Taobao rule (§7.3): never shared outside fulfilment. */
export const BUYER_DATA_CATEGORIES: readonly string[] = [
  'identity.name',
  'identity.real-name',
  'identity.national-id',
  'identity.platform-id',
  'contact.phone',
  'location.region',
  'location.street',
  'location.precise',
];

export type ExportRefusal =
  /** No recipient was named for data that holds buyer PI. */
  | 'no-recipient'
  /** The recipient is not in `datamap.recipients`. */
  | 'unknown-recipient'
  /** The recipient is a third party or joint controller, not an entrusted processor. */
  | 'not-a-processor'
  /** The export's purpose is not a fulfilment purpose. */
  | 'not-fulfilment'
  /** The processor is not registered for this purpose. */
  | 'purpose-not-agreed'
  /** The export holds categories the processor is not registered to receive. */
  | 'category-not-agreed';

export interface ExportCheck {
  /** The purpose the export is made for. */
  readonly purpose: string;
  /** The `datamap.recipients` id of who receives it. */
  readonly recipientId?: string | undefined;
  readonly datamap: Datamap;
  /** Categories in the export; omitted means "may hold any", which fails closed. */
  readonly categories?: readonly string[] | undefined;
  /** Purposes that count as fulfilment (default: `order-fulfilment`). */
  readonly fulfilmentPurposes?: readonly string[] | undefined;
}

export type ExportDecision =
  | { readonly allowed: true; readonly recipient: Recipient | undefined }
  | { readonly allowed: false; readonly reason: ExportRefusal; readonly categories?: readonly string[] };

/**
 * R31: whether buyer order data may leave for this recipient. Exports without buyer PI (order
 * amounts, statuses) pass; with buyer PI, only a registered `processor` for a fulfilment purpose
 * that the recipient is registered for, receiving only its registered categories. A purpose whose
 * legal basis is a legal obligation (PIPL Art. 13(3), e.g. customs declarations for cross-border
 * e-commerce) is an authorised purpose too: its registered recipient may receive its categories
 * whatever its role.
 */
export function checkExportAllowed(check: ExportCheck): ExportDecision {
  const categories = check.categories;
  const buyerData =
    categories === undefined
      ? [...BUYER_DATA_CATEGORIES]
      : categories.filter((c) => BUYER_DATA_CATEGORIES.includes(c));
  const recipient =
    check.recipientId === undefined
      ? undefined
      : check.datamap.recipients.find((r) => r.id === check.recipientId);
  if (check.recipientId !== undefined && recipient === undefined)
    return { allowed: false, reason: 'unknown-recipient' };
  if (buyerData.length === 0) {
    // Nothing of the buyer's goes, but a named recipient still only receives for its purposes.
    if (recipient !== undefined && !recipient.purposes.includes(check.purpose))
      return { allowed: false, reason: 'purpose-not-agreed' };
    return { allowed: true, recipient };
  }
  if (recipient === undefined) return { allowed: false, reason: 'no-recipient' };
  const statutory =
    check.datamap.purposes.find((p) => p.id === check.purpose)?.legalBasis === 'legal_obligation' &&
    recipient.purposes.includes(check.purpose);
  if (!statutory) {
    if (recipient.role !== 'processor') return { allowed: false, reason: 'not-a-processor' };
    if (!(check.fulfilmentPurposes ?? ['order-fulfilment']).includes(check.purpose))
      return { allowed: false, reason: 'not-fulfilment' };
  }
  if (!recipient.purposes.includes(check.purpose)) return { allowed: false, reason: 'purpose-not-agreed' };
  if (categories !== undefined) {
    const extra = categories.filter(
      (c) => BUYER_DATA_CATEGORIES.includes(c) && !(recipient.categories as readonly string[]).includes(c),
    );
    if (extra.length > 0) return { allowed: false, reason: 'category-not-agreed', categories: extra };
  }
  return { allowed: true, recipient };
}

/** {@link checkExportAllowed}, throwing `ERR_TMALL_EXPORT_REFUSED` when it refuses. */
export function assertExportAllowed(check: ExportCheck): void {
  const decision = checkExportAllowed(check);
  if (!decision.allowed)
    throw new CustodianError(
      'ERR_TMALL_EXPORT_REFUSED',
      `buyer order data may only go to a registered processor for fulfilment (${decision.reason})`,
      {
        details: {
          reason: decision.reason,
          purpose: check.purpose,
          ...(check.recipientId === undefined ? {} : { recipient: check.recipientId }),
          ...(decision.categories ? { categories: decision.categories } : {}),
        },
      },
    );
}
