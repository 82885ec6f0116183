/**
 * Deterministic synthetic customers and orders (no real personal data) for tests, the demo and
 * benchmarks.
 */

export { createRng, type Rng, type Seed } from './prng.js';
export {
  customerStream,
  generateCustomers,
  randomMobile,
  DEFAULT_REFERENCE_DATE,
  MAX_AGE,
  MIN_AGE,
  type CustomerOptions,
  type SyntheticAddress,
  type SyntheticCustomer,
} from './customers.js';
export {
  generateOrders,
  orderStream,
  ORDER_STATUSES,
  type EmbeddedPii,
  type OrderOptions,
  type OrderStatusCode,
  type SyntheticOrder,
} from './orders.js';
export { PROVINCES, type City, type District, type Province } from './regions.js';
