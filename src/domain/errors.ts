/**
 * Typed errors with stable codes.
 *
 * Every failure that crosses a boundary (HTTP, CLI, a service) is a {@link CustodianError} whose
 * `code` is one of {@link ERROR_CODES}. The HTTP layer maps the code to a status through this same
 * table and `docs/errors.md` documents each code; `test/errors.test.ts` keeps the three in sync.
 *
 * Messages must never carry personal data or secrets (security invariant 1): they name fields,
 * paths and ids, never values.
 */

export interface ErrorCodeSpec {
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Short, human-readable summary that does not change from occurrence to occurrence. */
  readonly title: string;
  /** Exit code the CLI uses: 2 for bad usage or input, 1 for a failed check or an operational failure. */
  readonly exit: 1 | 2;
}

export const ERROR_CODES = {
  ERR_CONFIG_INVALID: { status: 500, title: 'The configuration is invalid', exit: 2 },
  ERR_CONFIG_NOT_FOUND: { status: 500, title: 'The configuration file was not found', exit: 2 },
  ERR_CONFIG_EXISTS: { status: 409, title: 'A configuration already exists there', exit: 2 },
  ERR_USAGE_INVALID: { status: 400, title: 'The command was used wrongly', exit: 2 },
  ERR_VALIDATION_FAILED: { status: 400, title: 'The request does not match its schema', exit: 2 },
  ERR_AUTH_REQUIRED: { status: 401, title: 'Authentication is required', exit: 2 },
  ERR_AUTH_INVALID: { status: 401, title: 'The credentials are not valid', exit: 2 },
  ERR_AUTH_LOCKED: { status: 423, title: 'The account is locked after repeated failed sign-ins', exit: 2 },
  ERR_CSRF_REJECTED: {
    status: 403,
    title: 'A cookie-authenticated request did not prove it came from this site',
    exit: 2,
  },
  ERR_ACCESS_DENIED: { status: 403, title: 'The caller may not do this', exit: 2 },
  ERR_ROUTE_NOT_FOUND: { status: 404, title: 'No such route', exit: 2 },
  ERR_RATE_LIMITED: { status: 429, title: 'Too many requests', exit: 1 },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large', exit: 2 },
  ERR_MEDIA_TYPE_UNSUPPORTED: {
    status: 415,
    title: 'The request body has an unsupported media type',
    exit: 2,
  },
  ERR_PURPOSE_UNKNOWN: { status: 422, title: 'The purpose is not declared in the data map', exit: 2 },
  ERR_PURPOSE_NOT_PERMITTED: {
    status: 403,
    title: 'The caller’s role may not act for this purpose',
    exit: 2,
  },
  ERR_COLLECT_UNKNOWN_COLLECTION: {
    status: 422,
    title: 'The collection is not declared in the data map',
    exit: 2,
  },
  ERR_COLLECT_UNDECLARED_FIELDS: {
    status: 422,
    title: 'Fields not declared in the data map were submitted',
    exit: 2,
  },
  ERR_COLLECT_FIELDS_NOT_NEEDED: {
    status: 422,
    title: 'Fields the stated purpose does not need were submitted',
    exit: 2,
  },
  ERR_COLLECT_PII_REJECTED: {
    status: 422,
    title: 'Free text holds personal data the field may not hold',
    exit: 2,
  },
  ERR_BREAKGLASS_NOT_FOUND: { status: 404, title: 'No such break-glass grant', exit: 2 },
  ERR_BREAKGLASS_REVIEWED: { status: 409, title: 'The break-glass grant has been reviewed already', exit: 2 },
  ERR_APPROVAL_SECOND_PERSON: { status: 403, title: 'A second person must decide this', exit: 2 },
  ERR_EXPORT_NOT_FOUND: { status: 404, title: 'No such export', exit: 2 },
  ERR_EXPORT_STATE: { status: 409, title: 'The export is not in a state that allows this', exit: 2 },
  ERR_POLICY_NOT_FOUND: { status: 404, title: 'No such privacy-policy version', exit: 2 },
  ERR_PRIVACY_CODE_INVALID: {
    status: 401,
    title: 'The sign-in code is wrong, expired, used or out of attempts',
    exit: 2,
  },
  ERR_PRIVACY_CODE_RATE_LIMITED: { status: 429, title: 'Too many sign-in codes were asked for', exit: 1 },
  ERR_PRIVACY_SESSION_INVALID: { status: 401, title: 'The privacy-centre session is not valid', exit: 2 },
  ERR_PRIVACY_EMBED_TOKEN_INVALID: { status: 401, title: 'The consent-embed token is not valid', exit: 2 },
  ERR_SMS_SEND_FAILED: { status: 502, title: 'The SMS provider did not accept the message', exit: 1 },
  ERR_CONSENT_NOT_APPLICABLE: {
    status: 422,
    title: 'The purpose does not rest on consent, so it takes none',
    exit: 2,
  },
  ERR_CONSENT_NOT_IN_POLICY: {
    status: 422,
    title: 'The privacy-policy version does not describe what the consent names',
    exit: 2,
  },
  ERR_CONSENT_INVALID: { status: 422, title: 'The consent request is not valid', exit: 2 },
  ERR_CONSENT_WITHDRAWN: {
    status: 409,
    title: 'The customer withdrew or refused consent for this purpose',
    exit: 2,
  },
  ERR_CONSENT_GUARDIAN_REQUIRED: {
    status: 422,
    title: 'A customer under 14 needs a guardian’s consent',
    exit: 2,
  },
  ERR_SUBJECT_NOT_FOUND: { status: 404, title: 'No such subject', exit: 2 },
  ERR_SUBJECT_ERASED: { status: 410, title: 'The subject has been erased', exit: 2 },
  ERR_SUBJECT_AMBIGUOUS: { status: 409, title: 'The identities match more than one subject', exit: 2 },
  ERR_IDENTITY_CONFLICT: {
    status: 409,
    title: 'A platform identity of the record belongs to another subject',
    exit: 2,
  },
  ERR_AUDIT_WRITE_FAILED: {
    status: 503,
    title: 'The audit entry could not be written, so nothing was done',
    exit: 1,
  },
  ERR_STORE_UNAVAILABLE: { status: 503, title: 'The store is unavailable', exit: 1 },
  ERR_STORE_MIGRATION_FAILED: { status: 500, title: 'A database migration failed', exit: 1 },
  ERR_STORE_CONFLICT: { status: 409, title: 'The write conflicts with existing data', exit: 1 },
  ERR_STORE_BUSY: {
    status: 503,
    title: 'The store is busy with another writer; try again shortly',
    exit: 1,
  },
  ERR_KEY_UNAVAILABLE: { status: 503, title: 'A key is unavailable', exit: 1 },
  ERR_KEY_INVALID: { status: 500, title: 'A key is malformed', exit: 2 },
  ERR_KEY_FILE_PERMISSIONS: { status: 500, title: 'A key file is readable by others', exit: 2 },
  ERR_CRYPTO_DECRYPTION_FAILED: {
    status: 500,
    title: 'Decryption failed: the data or its context is not authentic',
    exit: 1,
  },
  ERR_CRYPTO_UNSUPPORTED: {
    status: 500,
    title: 'The cryptographic suite or format is not supported',
    exit: 2,
  },
  ERR_SERVER_INTERNAL: { status: 500, title: 'Internal error', exit: 1 },
  ERR_ROLE_UNKNOWN: { status: 422, title: 'The role is neither built in nor configured', exit: 2 },
  ERR_STAFF_NOT_FOUND: { status: 404, title: 'No such staff member', exit: 2 },
  ERR_STAFF_EXISTS: { status: 409, title: 'A staff member with that username exists already', exit: 2 },
  ERR_PASSWORD_WEAK: { status: 422, title: 'The password is too short or too easy to guess', exit: 2 },
  ERR_APIKEY_NOT_FOUND: { status: 404, title: 'No such active API key', exit: 2 },
  ERR_CHECK_FAILED: { status: 422, title: 'A check found problems', exit: 1 },
  ERR_AUDIT_RANGE_INVALID: { status: 422, title: 'The requested entries lie outside the audit log', exit: 2 },
  ERR_AUDIT_CHECKPOINT_NOT_FOUND: {
    status: 404,
    title: 'No audit log checkpoint has been signed yet',
    exit: 1,
  },
  ERR_AUDIT_PRUNED: {
    status: 410,
    title: 'The requested audit entries were pruned after their retention period',
    exit: 2,
  },
  ERR_AUDIT_CHECKPOINT_INVALID: {
    status: 422,
    title: 'The text is not a well-formed signed checkpoint',
    exit: 2,
  },
  ERR_TMALL_IMPORT_INVALID: { status: 422, title: 'The order export cannot be imported', exit: 2 },
  ERR_TMALL_MAP_INVALID: { status: 422, title: 'The import column map is invalid', exit: 2 },
  ERR_TMALL_SCENE_PURPOSE: {
    status: 403,
    title: 'The TOP decryption scene does not serve the stated purpose',
    exit: 2,
  },
  ERR_TMALL_TOP_FAILED: { status: 502, title: 'The Taobao Open Platform call failed', exit: 1 },
  ERR_TMALL_EXPORT_REFUSED: {
    status: 403,
    title: 'Buyer order data may only go to a registered processor for fulfilment',
    exit: 2,
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CustodianErrorOptions {
  /** The underlying error; kept for logs, never sent to a client. */
  readonly cause?: unknown;
  /** Structured, PI-free details that clients may see (field names, paths, limits). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one base class for every expected failure. `message` is PI-free and may reach a client.
 */
export class CustodianError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: CustodianErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CustodianError';
    this.code = code;
    this.details = options.details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get exitCode(): 1 | 2 {
    return ERROR_CODES[this.code].exit;
  }
}

export function isCustodianError(value: unknown): value is CustodianError {
  return value instanceof CustodianError;
}

/** True for the codes that describe bad input rather than a failure of the system. */
export function isInputError(code: ErrorCode): boolean {
  return ERROR_CODES[code].exit === 2;
}

/** Whether `code` names one of the stable error codes (a code that crossed a thread boundary, say). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}
