import { parse } from 'yaml';
import { configTemplate } from '../../../src/config/template.js';
import { datamapSchema, type Datamap } from '../../../src/domain/datamap/schema.js';

/** The parts of a raw (unparsed) data map that tests edit. */
export interface RawField {
  category?: string;
  sensitivity?: string;
  protection?: string;
  purposes?: Record<string, string>;
  retention?: unknown;
  description?: string;
  freeText?: { pii: string; declares?: string[] };
  [key: string]: unknown;
}
export interface RawPurpose {
  id: string;
  legalBasis: string;
  necessary: boolean;
  separateConsents?: string[];
  crossBorder?: boolean;
  [key: string]: unknown;
}
export interface RawRecipient {
  id: string;
  role: string;
  purposes: string[];
  categories: string[];
  country?: string;
  crossBorder?: boolean;
  legalBasis?: string;
  [key: string]: unknown;
}
export interface RawDatamap {
  purposes: RawPurpose[];
  collections: Record<string, { minimise?: string; fields: Record<string, RawField> }>;
  recipients: RawRecipient[];
  [key: string]: unknown;
}

export const TEMPLATE = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });
const raw = (parse(TEMPLATE) as { datamap: RawDatamap }).datamap;

/** A fresh copy of the example data map (the `custodian init` template) as written, to edit. */
export function exampleRaw(): RawDatamap {
  return structuredClone(raw);
}

/** The example data map after `edit`, parsed (throws on a schema error). */
export function datamap(edit: (raw: RawDatamap) => void = () => undefined): Datamap {
  const copy = exampleRaw();
  edit(copy);
  return datamapSchema.parse(copy);
}

export function field(raw: RawDatamap, collection: string, name: string): RawField {
  return raw.collections[collection]!.fields[name]!;
}

export function purpose(raw: RawDatamap, id: string): RawPurpose {
  return raw.purposes.find((p) => p.id === id)!;
}

export function recipient(raw: RawDatamap, id: string): RawRecipient {
  return raw.recipients.find((r) => r.id === id)!;
}

/** Index of a purpose in the example, for paths such as `datamap.purposes.3.necessary`. */
export function purposeIndex(id: string): number {
  return raw.purposes.findIndex((p) => p.id === id);
}

export function recipientIndex(id: string): number {
  return raw.recipients.findIndex((r) => r.id === id);
}
