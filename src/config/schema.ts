import { z } from 'zod';
import { datamapSchema } from '../domain/datamap/schema.js';

/**
 * The schema of `custodian.yaml`. Every object is strict: an unknown key is an error that names
 * the file, line and key, so a typo never silently turns a protection off.
 */

const port = z.number().int().min(0).max(65535);

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8080),
  /** Trust X-Forwarded-* from a reverse proxy. */
  trustProxy: z.boolean().default(false),
  /** Maximum request body in bytes. */
  bodyLimit: z.number().int().positive().default(1_048_576),
  rateLimit: z
    .strictObject({
      max: z.number().int().positive().default(600),
      /** Window length in milliseconds. */
      windowMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});

const sqliteSchema = z.strictObject({
  engine: z.literal('sqlite'),
  /** Relative paths resolve against the config file's folder. */
  path: z.string().min(1).default('data/custodian.db'),
});

const postgresSchema = z.strictObject({
  engine: z.literal('postgres'),
  /** `postgres://user:pass@host:port/db`; put the password in the environment: `${env:PGPASSWORD}`. */
  url: z.string().regex(/^postgres(ql)?:\/\//, 'a postgres:// URL'),
  poolSize: z.number().int().positive().max(200).default(10),
});

const fileRootSchema = z.strictObject({
  provider: z.literal('file'),
  /** A 32-byte key file, mode 0600. */
  path: z.string().min(1),
});

const pkcs11RootSchema = z.strictObject({
  provider: z.literal('pkcs11'),
  /** The PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  library: z.string().min(1),
  tokenLabel: z.string().min(1),
  /** The user PIN; use `${env:CUSTODIAN_PKCS11_PIN}`. */
  pin: z.string().min(1),
  keyLabel: z.string().min(1).default('custodian-root'),
});

export const rootKeySchema = z.discriminatedUnion('provider', [fileRootSchema, pkcs11RootSchema]);

const indexRootSchema = fileRootSchema.extend({
  /** Index key version; bump it when rotating to a new index root. */
  version: z.number().int().min(1).max(65535).default(1),
});

const keysSchema = z.strictObject({
  /** The root key that wraps new subject keys. */
  root: rootKeySchema,
  /** Earlier root keys, still able to unwrap until `custodian keys rotate --root` has rewrapped everything. */
  retiredRoots: z.array(rootKeySchema).default([]),
  /** Root of the blind-index keys; kept apart from the data root (DESIGN: key hierarchy). */
  index: indexRootSchema,
  /** Earlier index roots: lookups query them too until `custodian keys rotate --index` finishes. */
  retiredIndexes: z.array(indexRootSchema).default([]),
  /** Unwrapped subject keys kept in memory. */
  cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
});

const cryptoSchema = z.strictObject({
  /** The AEAD suite new ciphertexts use; every ciphertext records its own (R14). */
  suite: z.enum(['aes-256-gcm', 'sm4-gcm']).default('aes-256-gcm'),
});

const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export const configSchema = z.strictObject({
  server: serverSchema.prefault({}),
  database: z
    .discriminatedUnion('engine', [sqliteSchema, postgresSchema])
    .default({ engine: 'sqlite', path: 'data/custodian.db' }),
  keys: keysSchema,
  crypto: cryptoSchema.prefault({}),
  log: logSchema.prefault({}),
  datamap: datamapSchema,
});

export type Config = z.output<typeof configSchema>;
export type DatabaseConfig = Config['database'];
export type RootKeyConfig = z.output<typeof rootKeySchema>;
export type IndexRootConfig = z.output<typeof indexRootSchema>;
