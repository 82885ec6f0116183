import { isIP } from 'node:net';
import { z } from 'zod';
import { roleSchema } from '../domain/access/roles.js';
import {
  coversPeriod,
  MIN_ENTRY_RETENTION,
  MIN_SHARING_RETENTION,
  parseRetentionPeriod,
  type RetentionPeriod,
} from '../domain/audit/retention.js';
import { processorProblem } from '../domain/datamap/recipients.js';
import { datamapSchema } from '../domain/datamap/schema.js';
import { durationSchema } from './duration.js';
import {
  DEFAULT_SCENE_PURPOSES,
  OVERRIDABLE_SCENES,
  SCENE_CODES,
  sceneOverrideProblem,
} from '../platforms/tmall/rules.js';

/**
 * The schema of `custodian.yaml`. Every object is strict: an unknown key is an error that names
 * the file, line and key, so a typo never silently turns a protection off.
 */

const port = z.number().int().min(0).max(65535);

const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, a CIDR range (`10.0.0.0/8`) or one of proxy-addr's named ranges. */
function isProxyAddress(value: string): boolean {
  if (PROXY_RANGES.has(value)) return true;
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const proxyAddress = z
  .string()
  .refine(isProxyAddress, 'an IP address, a CIDR range, or loopback, linklocal or uniquelocal');

const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: port.default(8080),
  /**
   * Trust X-Forwarded-* from a reverse proxy: the proxies' addresses or CIDR ranges (one, or a
   * list), or `true` to trust every hop, which is only safe when the proxy overwrites the headers.
   * No hop count: Fastify ignores one, since it cannot tell a proxy from a client that connects
   * directly.
   */
  trustProxy: z
    .union([z.boolean(), proxyAddress.transform((address) => [address]), z.array(proxyAddress).min(1)], {
      error: 'true, false, or the address or CIDR range of each trusted proxy (no hop count)',
    })
    .default(false),
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

/** Where alerts go (break-glass use, anomalies, incidents). The log always receives them. */
const notifySchema = z.strictObject({
  webhook: z
    .strictObject({
      /** https; plain http only to this machine, since the secret goes with every alert. */
      url: z
        .url({ protocol: /^https?$/ })
        .refine(secureOrLoopback, 'an https URL (http only to 127.0.0.1 or localhost)'),
      /** Sent as `Authorization: Bearer …`; use `${env:NAME}`. */
      secret: z.string().min(1).optional(),
      timeoutMs: z.number().int().positive().max(60_000).default(5_000),
    })
    .optional(),
  smtp: z
    .strictObject({
      host: z.string().min(1),
      port: port.default(587),
      /**
       * Implicit TLS (port 465); otherwise STARTTLS is required, or with `requireTls: false` used
       * whenever the server offers it (plain only to a server that offers none).
       */
      secure: z.boolean().default(false),
      requireTls: z.boolean().default(true),
      user: z.string().min(1).optional(),
      /** Use `${env:NAME}`. */
      password: z.string().min(1).optional(),
      from: z.string().min(3),
      /** Who receives security alerts (the privacy officer, the security admin). */
      to: z.array(z.string().min(3)).min(1),
      /**
       * How long connecting, the greeting and each silence of the server may take. Alerts and
       * privacy requests wait for the send, so a relay that stalls must not hold them for
       * nodemailer's defaults (2 minutes to connect, 10 of silence). Default 10,000.
       */
      timeoutMs: z.number().int().positive().max(60_000).optional(),
    })
    .optional(),
});

export type NotifyConfig = z.output<typeof notifySchema>;

/** A custom role's name: lower-case words joined by hyphens, like the built-ins. */
const roleName = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a role name: lower-case letters, digits and hyphens');

/** Access control: staff sessions and lockout, training currency (R18) and roles (R16). */
const accessSchema = z.strictObject({
  /** R18: withhold every personal-data field from a person whose training has lapsed. */
  requireTraining: z.boolean().default(false),
  /** How long a training record stays current when `staff training` is given no `--expires`. */
  trainingValidity: durationSchema.default('365d'),
  session: z
    .strictObject({
      /** A session unused this long ends. */
      idleMinutes: z.number().int().min(1).max(1440).default(30),
      /** A session ends this long after sign-in, used or not. */
      absoluteHours: z.number().int().min(1).max(720).default(12),
    })
    .prefault({}),
  lockout: z
    .strictObject({
      /** Failed sign-ins in a row that lock the account (each one before that doubles a back-off). */
      maxFailures: z.number().int().min(1).max(100).default(5),
      lockMinutes: z.number().int().min(1).max(1440).default(15),
    })
    .prefault({}),
  /** Custom roles, added to the built-ins or replacing one by name. */
  roles: z.record(roleName, roleSchema).default({}),
  exportApproval: z
    .strictObject({
      /** Exports of more subjects than this need a second person's approval (R16). */
      threshold: z.number().int().min(1).default(100),
    })
    .prefault({}),
  breakGlass: z
    .strictObject({
      /** The longest a break-glass grant may last. */
      maxMinutes: z.number().int().min(1).max(1440).default(60),
    })
    .prefault({}),
});

export type AccessConfig = z.output<typeof accessSchema>;

const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/u, 'a time of day, HH:MM');
const windowMinutes = z.number().int().min(1).max(10_080);

/** Anomaly detection over the audit log (docs/audit-log.md, "Anomaly detection"). */
const anomalySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** How often the detector reads new entries. */
  pollSeconds: z.number().int().min(1).max(3600).default(5),
  /** One actor reading more than `maxSubjects` distinct subjects within `windowMinutes`. */
  bulkRead: z
    .strictObject({
      windowMinutes: windowMinutes.default(10),
      maxSubjects: z.number().int().min(1).default(200),
    })
    .prefault({}),
  /** Reads, searches and exports outside working hours (one hit per actor per hour). */
  workingHours: z
    .strictObject({
      enabled: z.boolean().default(true),
      start: clockTime.default('08:00'),
      end: clockTime.default('20:00'),
      timezone: z
        .string()
        .min(1)
        .default('Asia/Shanghai')
        .refine((tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz });
            return true;
          } catch {
            return false;
          }
        }, 'an IANA time zone'),
      /** Working days, 0 = Sunday … 6 = Saturday. */
      days: z.array(z.number().int().min(0).max(6)).default([1, 2, 3, 4, 5, 6]),
    })
    .prefault({}),
  /** Reads that showed nothing (every field withheld), at least `maxAttempts` within `windowMinutes`. */
  repeatedDenied: z
    .strictObject({
      windowMinutes: windowMinutes.default(10),
      maxAttempts: z.number().int().min(1).default(20),
    })
    .prefault({}),
  /** Every break-glass grant opens an incident for review. */
  breakGlass: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** Subjects requested or downloaded in exports by one actor, more than `maxSubjects` within `windowMinutes`. */
  exportSpike: z
    .strictObject({
      windowMinutes: windowMinutes.default(60),
      maxSubjects: z.number().int().min(1).default(1000),
    })
    .prefault({}),
  /** Subject pseudonyms kept as evidence per incident. */
  maxSubjectRefs: z.number().int().min(0).max(1000).default(50),
});

export type AnomalyConfig = z.output<typeof anomalySchema>;

/** A retention period, `184d`, `6mo` or `3y`, refused below `floor` (the legal minimum). */
function retentionPeriod(fallback: string, floor: RetentionPeriod, law: string) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx): RetentionPeriod => {
      const period = parseRetentionPeriod(text);
      if (period === undefined) {
        ctx.addIssue({ code: 'custom', message: 'a retention period such as 184d, 6mo or 3y' });
        return z.NEVER;
      }
      if (!coversPeriod(period, floor)) {
        ctx.addIssue({
          code: 'custom',
          message: `at least ${floor.count}${floor.unit === 'y' ? ' years' : ' months'} (${law})`,
        });
        return z.NEVER;
      }
      return period;
    });
}

/**
 * How long audit entries are kept before `custodian log prune` may remove their sealed segments
 * (docs/audit-log.md, "Retention"). Only longer than the legal minimum, never shorter.
 */
const auditRetentionSchema = z.strictObject({
  /** Every entry: R17, Cybersecurity Law Art. 21(3), at least six months. */
  entries: retentionPeriod('6mo', MIN_ENTRY_RETENTION, 'R17, Cybersecurity Law Art. 21(3)'),
  /** Exports and other provision or assessment records: R13, R19 (NDSR Art. 12, PIPL Art. 56), at least three years. */
  sharing: retentionPeriod('3y', MIN_SHARING_RETENTION, 'R13/R19, NDSR Art. 12, PIPL Art. 56'),
});

/** The tamper-evident audit log (docs/audit-log.md). */
const auditSchema = z.strictObject({
  /** Ed25519 private key (PKCS#8 PEM, mode 0600) that signs checkpoints; `init` creates it. */
  signingKey: z.string().min(1).default('keys/audit-signing.key'),
  /**
   * The log's name in its checkpoints and the signing key's name (a schema-less URL, no spaces
   * or +). Default: `custodian.local/<first 16 hex digits of SHA-256 of the public key>`.
   */
  origin: z
    .string()
    .max(200)
    .regex(/^[^\s+]+$/u, 'a name without spaces or +')
    .optional(),
  /** A checkpoint is signed once this many entries or this many seconds have passed, whichever comes first. */
  checkpoint: z
    .strictObject({
      everyEntries: z.number().int().min(1).max(100_000_000).default(1000),
      everySeconds: z.number().int().min(1).max(86_400).default(300),
    })
    .prefault({}),
  /** Anomaly rules over the log; a hit alerts and opens a pending incident (docs/audit-log.md). */
  anomaly: anomalySchema.prefault({}),
  /** Minimum retention before sealed segments may be pruned (docs/audit-log.md, "Retention"). */
  retention: auditRetentionSchema.prefault({}),
});

export type AuditConfig = z.output<typeof auditSchema>;

/**
 * Tmall and the Taobao Open Platform (docs/tmall.md). Only TOP calls need the app credentials;
 * `custodian import tmall-orders` needs none of this.
 */
const tmallSchema = z.strictObject({
  /** The TOP gateway (also https://eco.taobao.com/router/rest; overseas https://api.taobao.com/router/rest). */
  gateway: z.url({ protocol: /^https?$/ }).default('https://gw.api.taobao.com/router/rest'),
  appKey: z.string().min(1).optional(),
  /** The app secret signs every request; use `${env:TMALL_APP_SECRET}`. */
  appSecret: z.string().min(1).optional(),
  /** R29: md5, hmac (HMAC-MD5) or hmac-sha256. */
  signMethod: z.enum(['md5', 'hmac', 'hmac-sha256']).default('hmac-sha256'),
  /** The seller's authorised session key (APIs marked 需要授权); use `${env:TMALL_SESSION}`. */
  session: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().max(120_000).default(15_000),
  /**
   * Which purpose each OAID decryption scene serves (R30); decryption for any other purpose is
   * refused. Entries given here replace the defaults scene by scene, but R30 fixes what the
   * shipping (1001–1009) and after-sales (2001) scenes are for: only customer care (2002) may be
   * mapped elsewhere, to a contract-based purpose of the data map (checked with the data map below).
   */
  scenes: z
    .partialRecord(z.enum(SCENE_CODES.map(String) as [string, ...string[]]), z.string().min(1))
    .default({})
    .superRefine((scenes, ctx) => {
      for (const [scene, purpose] of Object.entries(scenes)) {
        const problem = purpose === undefined ? undefined : sceneOverrideProblem(scene, purpose);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: [scene], message: problem });
      }
    })
    .transform((s) => ({ ...DEFAULT_SCENE_PURPOSES, ...s }) as Readonly<Record<string, string>>),
});

export type TmallConfig = z.output<typeof tmallSchema>;

/** The consent ledger and its receipts (docs/consent.md). */
const consentSchema = z.strictObject({
  /** NDSR Art. 22(5): after an explicit refusal, do not ask the customer again for this many days. */
  refusalQuietDays: z.number().int().min(0).max(3650).default(365),
  /** Ed25519 private key (PKCS#8 PEM, mode 0600) that signs consent receipts; `init` creates it. */
  receiptKey: z.string().min(1).default('keys/consent-receipts.key'),
  /** Earlier receipt keys (PEM, public or private): still published in the JWKS so old receipts verify. */
  retiredReceiptKeys: z.array(z.string().min(1)).default([]),
  /** Where a receipt says the policy version can be read; `{version}` is replaced by its number. */
  policyUrl: z.string().min(1).max(500).default('/privacy/policy?version={version}'),
});

export type ConsentConfig = z.output<typeof consentSchema>;

/** Plain http only to this machine (a local test double); anything else must be https. */
function secureOrLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/** The SMS gateway for phone sign-in codes (docs/privacy-centre.md, "SMS"). */
const smsSchema = z.strictObject({
  provider: z.literal('aliyun'),
  /** Alibaba Cloud SMS (dysmsapi 2017-05-25). */
  endpoint: z
    .url({ protocol: /^https?$/ })
    .refine(secureOrLoopback, 'an https URL (http only to 127.0.0.1 or localhost)')
    .default('https://dysmsapi.aliyuncs.com/'),
  /** A RAM user's AccessKey allowed only `dysms:SendSms`; use `${env:NAME}` for both. */
  accessKeyId: z.string().min(1),
  accessKeySecret: z.string().min(1),
  /** The approved signature (签名名称). */
  signName: z.string().min(1).max(100),
  /** The approved verification-code template (模板 CODE) with the variable `${code}`. */
  templateCode: z.string().regex(/^SMS_\d+$/u, 'an Alibaba Cloud template code such as SMS_123456789'),
  regionId: z
    .string()
    .regex(/^[a-z]+(-[a-z0-9]+)+$/u, 'a region id such as cn-hangzhou')
    .default('cn-hangzhou'),
  timeoutMs: z.number().int().positive().max(60_000).default(5_000),
  /**
   * The `datamap.recipients` id of the provider: it receives customers' phone numbers, so it
   * must be declared there as a processor listing contact.phone (R6, R13; PIPL Art. 21).
   */
  recipient: z.string().min(1),
});

export type SmsConfig = z.output<typeof smsSchema>;

/** The customers' privacy centre at /privacy (docs/privacy-centre.md). */
const privacyCentreSchema = z.strictObject({
  /**
   * How sign-in codes reach customers: `log` (development: the code at debug level) or `deliver`
   * (email via notify.smtp, phone via privacyCentre.sms). `smtp`, the earlier name of `deliver`,
   * is still accepted and means the same.
   */
  codeChannel: z
    .enum(['log', 'deliver', 'smtp'])
    .transform((c): 'log' | 'deliver' => (c === 'smtp' ? 'deliver' : c))
    .default('log'),
  /** The SMS gateway for phone codes under `deliver`; without it phone codes are not sent (logged, masked). */
  sms: smsSchema.optional(),
  codeTtlMinutes: z.number().int().min(1).max(60).default(10),
  maxAttempts: z.number().int().min(1).max(10).default(5),
  /** At most this many codes per phone or email per window. */
  sendsPerWindow: z.number().int().min(1).max(100).default(3),
  sendWindowMinutes: z.number().int().min(1).max(1440).default(15),
  sessionMinutes: z.number().int().min(5).max(1440).default(60),
  /** Lifetime of the tokens a merchant's server mints for the <custodian-consent> snippet. */
  embedTokenMinutes: z.number().int().min(1).max(60).default(10),
});

export type PrivacyCentreConfig = z.output<typeof privacyCentreSchema>;

export const configSchema = z
  .strictObject({
    server: serverSchema.prefault({}),
    database: z
      .discriminatedUnion('engine', [sqliteSchema, postgresSchema])
      .default({ engine: 'sqlite', path: 'data/custodian.db' }),
    keys: keysSchema,
    crypto: cryptoSchema.prefault({}),
    notify: notifySchema.prefault({}),
    log: logSchema.prefault({}),
    access: accessSchema.prefault({}),
    audit: auditSchema.prefault({}),
    consent: consentSchema.prefault({}),
    privacyCentre: privacyCentreSchema.prefault({}),
    tmall: tmallSchema.prefault({}),
    datamap: datamapSchema,
  })
  // Checks across sections, reported at the key that has to change (file:line like any other).
  .superRefine((config, ctx) => {
    const centre = config.privacyCentre;
    if (centre.codeChannel === 'deliver' && centre.sms === undefined && config.notify.smtp === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['privacyCentre', 'codeChannel'],
        message: 'deliver needs notify.smtp (email codes) or privacyCentre.sms (phone codes)',
      });
    if (centre.sms !== undefined) {
      // R6, R13: the SMS provider receives phone numbers, as an entrusted processor listed in the policy.
      const problem = processorProblem(config.datamap.recipients, centre.sms.recipient, 'contact.phone');
      if (problem !== undefined)
        ctx.addIssue({ code: 'custom', path: ['privacyCentre', 'sms', 'recipient'], message: problem });
    }
    // R30: an overridden decryption scene (2002) serves a contract-based purpose the data map
    // declares (the fixed scenes are checked, and reported, at `tmall.scenes` itself).
    for (const scene of OVERRIDABLE_SCENES) {
      const purpose = config.tmall.scenes[scene];
      if (purpose === undefined) continue;
      const problem = sceneOverrideProblem(scene, purpose, config.datamap.purposes);
      if (problem !== undefined)
        ctx.addIssue({ code: 'custom', path: ['tmall', 'scenes', scene], message: problem });
    }
  });

export type Config = z.output<typeof configSchema>;
export type DatabaseConfig = Config['database'];
export type RootKeyConfig = z.output<typeof rootKeySchema>;
export type IndexRootConfig = z.output<typeof indexRootSchema>;
