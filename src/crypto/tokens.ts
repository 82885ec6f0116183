import { createHash, randomBytes } from 'node:crypto';

/** Bearer tokens look like `cst_<43 base64url chars>`: 256 bits from the CSPRNG. */
const PREFIX = 'cst_';
const TOKEN_PATTERN = /^cst_[A-Za-z0-9_-]{43}$/;

export function newToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens are stored only as this hash (aesthetics habit 9); a leaked table grants nothing. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function isWellFormedToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}
