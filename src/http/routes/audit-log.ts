import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { verifierKeyString } from '../../crypto/signed-note.js';
import { CustodianError } from '../../domain/errors.js';
import { AuditLog, MAX_ENTRY_PAGE } from '../../services/audit-log.js';
import { loadAuditSigner } from '../../services/audit-log-key.js';
import type { AppContext } from '../app.js';
import { problemResponses } from '../problem.js';

export interface AuditLogRouteOptions {
  readonly context: AppContext;
}

const index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const size = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const hash = z
  .string()
  .regex(/^[0-9a-f]{64}$/)
  .describe('SHA-256, hex');
const keyId = z
  .string()
  .regex(/^[0-9a-f]{8}$/)
  .describe('signed-note key id, hex');

const errors = problemResponses;
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const keyIdHex = (id: number): string => id.toString(16).padStart(8, '0');

/**
 * The audit log for auditors (docs/audit-log.md): the public key, signed checkpoints, entries with
 * their exact hashed bytes, and RFC 9162 inclusion and consistency proofs. Every route requires
 * `audit.read` (the auditor and privacy-officer roles); the public key only authentication.
 */
export const auditLogRoutes: FastifyPluginAsyncZod<AuditLogRouteOptions> = (app, { context }) => {
  // Reads go straight to the store; the signing key is loaded for its public half only.
  const signer = loadAuditSigner(context.config.audit);
  const log = new AuditLog({ store: context.store, signer });

  app.get(
    '/audit-log/public-key',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: ['audit-log'],
        summary: 'The Ed25519 key that signs checkpoints',
        response: {
          200: z.object({
            keyName: z.string(),
            keyId,
            algorithm: z.literal('Ed25519'),
            publicKey: z.string().describe('the 32-byte RFC 8032 public key, base64'),
            spki: z.string().describe('SubjectPublicKeyInfo DER, base64'),
            verifierKey: z.string().describe('golang.org/x/mod/sumdb/note verifier key'),
          }),
          ...errors,
        },
      },
    },
    () => ({
      keyName: signer.name,
      keyId: keyIdHex(signer.keyId),
      algorithm: 'Ed25519' as const,
      publicKey: signer.rawPublicKey.toString('base64'),
      spki: signer.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      verifierKey: verifierKeyString(signer),
    }),
  );

  app.get(
    '/audit-log/checkpoints/latest',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit-log'],
        summary:
          'The latest signed checkpoint: tree size, root hash and time, as fields and as a C2SP signed note',
        response: {
          200: z.object({
            origin: z.string(),
            treeSize: z.number().int(),
            rootHash: hash,
            time: z.string(),
            keyId,
            signature: z.string().describe('Ed25519 signature over the note text, base64'),
            note: z.string().describe('the signed note, as `custodian log checkpoint --export` writes it'),
          }),
          ...errors,
        },
      },
    },
    async () => {
      const latest = await log.latestCheckpoint();
      if (latest === undefined)
        throw new CustodianError('ERR_AUDIT_CHECKPOINT_NOT_FOUND', 'no checkpoint has been signed yet');
      return {
        origin: latest.origin,
        treeSize: latest.treeSize,
        rootHash: hexOf(latest.rootHash),
        time: latest.time,
        keyId: keyIdHex(latest.keyId),
        signature: latest.signature.toString('base64'),
        note: latest.note,
      };
    },
  );

  app.get(
    '/audit-log/entries',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit-log'],
        summary: `Entries [start, end) by leaf index (seq − 1), at most ${MAX_ENTRY_PAGE}, with the exact bytes each leaf hash covers`,
        querystring: z
          .strictObject({ start: index, end: index.optional() })
          .refine((q) => q.end === undefined || q.end >= q.start, 'end must not be below start')
          .refine(
            (q) => q.end === undefined || q.end - q.start <= MAX_ENTRY_PAGE,
            `at most ${MAX_ENTRY_PAGE} entries per page`,
          ),
        response: {
          200: z.object({
            treeSize: z.number().int(),
            start: z.number().int(),
            end: z.number().int(),
            entries: z.array(
              z.object({
                leafIndex: z.number().int(),
                leafHash: hash.describe('SHA-256(0x00 ‖ canonical), hex'),
                canonical: z
                  .string()
                  .describe('the canonical JSON entry, base64 of exactly the hashed bytes'),
              }),
            ),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const page = await log.entries(request.query.start, request.query.end);
      return {
        ...page,
        entries: page.entries.map((e) => ({
          leafIndex: e.leafIndex,
          leafHash: hexOf(e.leafHash),
          canonical: e.canonical.toString('base64'),
        })),
      };
    },
  );

  app.get(
    '/audit-log/proofs/inclusion',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit-log'],
        summary:
          'RFC 9162 inclusion proof (audit path) of one entry in the tree of the first treeSize entries',
        querystring: z.strictObject({ leafIndex: index, treeSize: size }),
        response: {
          200: z.object({
            leafIndex: z.number().int(),
            treeSize: z.number().int(),
            leafHash: hash,
            rootHash: hash,
            auditPath: z.array(hash),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const proof = await log.inclusionProof(request.query.leafIndex, request.query.treeSize);
      return {
        leafIndex: proof.leafIndex,
        treeSize: proof.treeSize,
        leafHash: hexOf(proof.leafHash),
        rootHash: hexOf(proof.rootHash),
        auditPath: proof.auditPath.map(hexOf),
      };
    },
  );

  app.get(
    '/audit-log/proofs/consistency',
    {
      config: { permission: 'audit.read' },
      schema: {
        tags: ['audit-log'],
        summary:
          'RFC 9162 consistency proof: the tree of the first `first` entries is a prefix of the tree of `second`',
        querystring: z
          .strictObject({ first: size, second: size })
          .refine((q) => q.first <= q.second, 'first must not exceed second'),
        response: {
          200: z.object({
            first: z.number().int(),
            second: z.number().int(),
            firstRootHash: hash,
            secondRootHash: hash,
            proof: z.array(hash),
          }),
          ...errors,
        },
      },
    },
    async (request) => {
      const proof = await log.consistencyProof(request.query.first, request.query.second);
      return {
        first: proof.first,
        second: proof.second,
        firstRootHash: hexOf(proof.firstRootHash),
        secondRootHash: hexOf(proof.secondRootHash),
        proof: proof.proof.map(hexOf),
      };
    },
  );
  return Promise.resolve();
};
