import type { Datamap } from '../datamap/schema.js';

/** What a caller gets of one field. */
export type Access = 'clear' | 'masked' | 'withheld';

export type WithholdReason = 'not-needed-for-purpose' | 'unknown-purpose' | 'undeclared-field';

/** A decision with the rule that made it, so every answer can be explained (and audited). */
export interface FieldDecision {
  readonly access: Access;
  readonly reason?: WithholdReason;
  /** Path of the configuration rule that decided, e.g. `datamap.collections.address.fields.phone.purposes.order-fulfilment`. */
  readonly rule: string;
}

/**
 * Decides a field for a purpose from the data map alone (default deny): a purpose sees only the
 * fields it declares it needs, with the view it declares; everything else is withheld. The role
 * dimension joins in the access-control layer; this function stays the purpose gate.
 */
export function decideField(
  datamap: Datamap,
  purpose: string,
  collection: string,
  field: string,
): FieldDecision {
  const fieldRule = `datamap.collections.${collection}.fields.${field}`;
  if (!datamap.purposes.some((p) => p.id === purpose)) {
    return { access: 'withheld', reason: 'unknown-purpose', rule: 'datamap.purposes' };
  }
  const spec = datamap.collections[collection]?.fields[field];
  if (spec === undefined) return { access: 'withheld', reason: 'undeclared-field', rule: fieldRule };
  const view = spec.purposes[purpose];
  if (view === undefined)
    return { access: 'withheld', reason: 'not-needed-for-purpose', rule: `${fieldRule}.purposes` };
  return { access: view, rule: `${fieldRule}.purposes.${purpose}` };
}
