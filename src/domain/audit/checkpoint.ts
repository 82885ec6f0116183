import { CustodianError } from '../errors.js';

/**
 * Checkpoints: signed statements "the log named <origin> had <treeSize> entries with this root
 * hash at <time>", in the C2SP formats (c2sp.org/tlog-checkpoint inside a c2sp.org/signed-note),
 * so standard transparency-log tooling can read and verify them:
 *
 *     custodian.local/3f2a9c0d51e7b684
 *     1043
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *     time 2026-03-01T08:00:00.000Z
 *
 *     — custodian.local/3f2a9c0d51e7b684 Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurm…
 *
 * The time is an extension line: covered by the Ed25519 signature, ignored by tools that do not
 * know it. See docs/audit-log.md.
 */

export interface Checkpoint {
  /** The log's identity; also the signing key's name. */
  readonly origin: string;
  readonly treeSize: number;
  /** RFC 9162 root hash of the first `treeSize` entries. */
  readonly rootHash: Uint8Array;
  /** ISO-8601 UTC signing time (the `time` extension line), or null when absent. */
  readonly time: string | null;
}

/** One signature line: key name, 32-bit key id and the signature bytes. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

const EM_DASH = '\u2014';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** signed-note key names: non-empty, no Unicode spaces, no `+`. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name) && !hasControl(name);
}

function hasControl(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0009\u000b-\u001f\u007f]/.test(text);
}

function invalid(message: string): CustodianError {
  return new CustodianError('ERR_AUDIT_CHECKPOINT_INVALID', `not a valid checkpoint: ${message}`);
}

/** Standard base64 that decodes and re-encodes to itself (no whitespace, padding required). */
function strictBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** The note text of a checkpoint (what gets signed), ending in a newline. */
export function checkpointBody(checkpoint: Checkpoint): string {
  if (!isValidKeyName(checkpoint.origin)) throw invalid('the origin must be non-empty, without spaces or +');
  if (!Number.isSafeInteger(checkpoint.treeSize) || checkpoint.treeSize < 0) throw invalid('bad tree size');
  if (checkpoint.rootHash.length !== 32) throw invalid('the root hash must be 32 bytes');
  const lines = [
    checkpoint.origin,
    String(checkpoint.treeSize),
    Buffer.from(checkpoint.rootHash).toString('base64'),
  ];
  if (checkpoint.time !== null) {
    if (!ISO_UTC.test(checkpoint.time)) throw invalid('the time must be ISO-8601 UTC');
    lines.push(`time ${checkpoint.time}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses a checkpoint body (the note text); throws `ERR_AUDIT_CHECKPOINT_INVALID`. */
export function parseCheckpointBody(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw invalid('the text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw invalid('expected origin, tree size and root hash lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (!isValidKeyName(origin)) throw invalid('bad origin line');
  if (!DECIMAL.test(size) || !Number.isSafeInteger(Number(size))) throw invalid('bad tree size line');
  const rootHash = strictBase64(root);
  if (rootHash?.length !== 32) throw invalid('bad root hash line');
  let time: string | null = null;
  for (const line of extensions) {
    if (line === '') throw invalid('empty extension line');
    if (line.startsWith('time ') && time === null) {
      time = line.slice(5);
      if (!ISO_UTC.test(time)) throw invalid('bad time line');
    }
  }
  return { origin, treeSize: Number(size), rootHash, time };
}

/** A signed note: the text (ending in a newline), a blank line, then one line per signature. */
export function formatSignedNote(text: string, signatures: readonly NoteSignature[]): string {
  if (!text.endsWith('\n')) throw invalid('the text must end in a newline');
  const lines = signatures.map((s) => {
    if (!isValidKeyName(s.name)) throw invalid('bad key name');
    const bytes = Buffer.alloc(4 + s.signature.length);
    bytes.writeUInt32BE(s.keyId >>> 0, 0);
    bytes.set(s.signature, 4);
    return `${EM_DASH} ${s.name} ${bytes.toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** Splits a signed note into its text and signature lines; throws `ERR_AUDIT_CHECKPOINT_INVALID`. */
export function parseSignedNote(note: string): { text: string; signatures: NoteSignature[] } {
  if (note.length > 64 * 1024) throw invalid('too long');
  if (hasControl(note) || note.includes('\uFFFD')) throw invalid('control characters or invalid UTF-8');
  if (!note.endsWith('\n')) throw invalid('a signed note ends in a newline');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw invalid('no blank line before the signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const match = /^\u2014 (\S+) (\S+)$/u.exec(line);
    if (!match) throw invalid('bad signature line');
    const [, name, encoded] = match as unknown as [string, string, string];
    const bytes = strictBase64(encoded);
    if (!isValidKeyName(name) || bytes === undefined || bytes.length < 5) throw invalid('bad signature line');
    signatures.push({ name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) });
  }
  if (signatures.length === 0 || signatures.length > 32) throw invalid('expected 1 to 32 signatures');
  return { text, signatures };
}
