import { customerStream, type SyntheticCustomer } from '../../src/domain/synthetic/index.js';
import type { CollectInput } from '../../src/services/vault.js';

/** The `address` collection's fields, in clear, as a merchant's own table would hold them. */
export interface PlainFields {
  readonly oaid: string;
  readonly recipient_name: string;
  readonly phone: string;
  readonly province: string;
  readonly city: string;
  readonly district: string;
  readonly street: string;
}

/** One synthetic customer in both forms: what `collect` receives and what the plain table stores. */
export interface IngestRow {
  readonly input: CollectInput;
  readonly plain: PlainFields;
}

export const COLLECTION = 'address';
export const PURPOSE = 'order-fulfilment';

/** A synthetic customer's delivery address as the `address` collection's fields. */
export function addressFields(c: SyntheticCustomer): Record<string, string> {
  return {
    recipientName: c.name,
    phone: c.mobile,
    province: c.address.province,
    city: c.address.city,
    district: c.address.district,
    street: c.address.street,
  };
}

function toRow(c: SyntheticCustomer): IngestRow {
  const fields = addressFields(c);
  return {
    input: {
      collection: COLLECTION,
      fields,
      purpose: PURPOSE,
      identities: { oaid: c.oaid, phone: c.mobile },
    },
    plain: {
      oaid: c.oaid,
      recipient_name: c.name,
      phone: c.mobile,
      province: c.address.province,
      city: c.address.city,
      district: c.address.district,
      street: c.address.street,
    },
  };
}

/**
 * Deterministic synthetic customers, handed out without repeats: every timed run gets customers
 * no earlier run has seen, so `collect` always takes the new-subject path (an initial import).
 */
export class RowSource {
  readonly #stream: Generator<SyntheticCustomer, never, undefined>;
  #taken = 0;

  constructor(seed: string) {
    this.#stream = customerStream(seed);
  }

  /** Customers handed out so far. */
  get taken(): number {
    return this.#taken;
  }

  take(count: number): IngestRow[] {
    const rows: IngestRow[] = [];
    for (let i = 0; i < count; i++) rows.push(toRow(this.#stream.next().value));
    this.#taken += count;
    return rows;
  }
}
