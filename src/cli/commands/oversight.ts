import type { Command } from 'commander';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openExport, parseX25519PublicKey, type ExportSealTo } from '../../crypto/export-file.js';
import { CustodianError } from '../../domain/errors.js';
import { PAGE_MAX, type Page, type PageRequest } from '../../services/oversight.js';
import type { CliIO } from '../io.js';
import { openOutput, principalFromEnv, usage, withRuntime } from '../shared.js';

/** Every item of a paged list, a page at a time (the items are summaries, small each). */
async function allPages<T>(read: (page: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let before: string | undefined;
  do {
    const page = await read({ limit: PAGE_MAX, before });
    items.push(...page.items);
    before = page.next ?? undefined;
  } while (before !== undefined);
  return items;
}

function readSecret(io: CliIO, path: string, what: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), 'utf8').trim();
  } catch (cause) {
    throw new CustodianError('ERR_USAGE_INVALID', `${path}: cannot read the ${what}`, { cause });
  }
}

function readPrivateKey(io: CliIO, path: string): KeyObject {
  const text = readSecret(io, path, 'private key');
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (cause) {
    throw new CustodianError('ERR_USAGE_INVALID', `--private-key ${path}: not a PEM private key`, {
      cause,
    });
  }
  if (key.asymmetricKeyType !== 'x25519')
    throw usage(`--private-key ${path}: not an X25519 private key (PEM, PKCS#8)`);
  return key;
}

/** `custodian export …` and `custodian breakglass …`: the four-eyes workflows from a terminal. */
export function oversightCommands(program: Command, io: CliIO): void {
  const exp = program
    .command('export')
    .description('exports: request, approve or deny (a second person), download encrypted, decrypt');

  exp
    .command('request')
    .description('request an export of subjects for a purpose (acts as $CUSTODIAN_TOKEN)')
    .requiredOption('--purpose <purpose>', 'purpose declared in the data map')
    .requiredOption('--subjects <file>', 'file with one subject id per line')
    .option('--public-key <file>', 'encrypt to this X25519 public key (PEM) instead of a passphrase')
    .option('--to <recipient>', 'who receives the file: a datamap.recipients id (R31)')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the request as JSON')
    .action(
      async (opts: {
        purpose: string;
        subjects: string;
        publicKey?: string;
        to?: string;
        config?: string;
        json?: boolean;
      }) => {
        const subjectIds = readSecret(io, opts.subjects, 'subject list').split(/\s+/).filter(Boolean);
        if (subjectIds.length === 0) throw usage(`${opts.subjects}: no subject ids`);
        const recipient = opts.publicKey
          ? ({ kind: 'public-key', publicKey: readSecret(io, opts.publicKey, 'public key') } as const)
          : ({ kind: 'passphrase' } as const);
        if (recipient.kind === 'public-key') parseX25519PublicKey(recipient.publicKey);
        const record = await withRuntime(io, opts.config, async (rt) =>
          rt.oversight.requestExport(await principalFromEnv(io, rt.store), {
            purpose: opts.purpose,
            subjectIds,
            recipient,
            recipientId: opts.to,
          }),
        );
        if (opts.json)
          io.out(
            `${JSON.stringify({ id: record.id, status: record.status, subjects: record.subjectIds.length })}\n`,
          );
        else
          io.out(
            `Export ${record.id}: ${record.status} (${record.subjectIds.length} subjects)${record.status === 'pending' ? '; a second person must approve it' : ''}.\n`,
          );
      },
    );

  exp
    .command('list')
    .description('list exports')
    .option('--status <status>', 'pending, approved, denied or downloaded')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { status?: string; config?: string; json?: boolean }) => {
      const status = opts.status;
      if (status !== undefined && !['pending', 'approved', 'denied', 'downloaded'].includes(status))
        throw usage('--status: pending, approved, denied or downloaded');
      const list = await withRuntime(io, opts.config, (rt) =>
        allPages((page) => rt.oversight.listExports({ ...page, status: status as 'pending' | undefined })),
      );
      const rows = list.map((e) => ({
        id: e.id,
        status: e.status,
        purpose: e.purpose,
        subjects: e.subjectCount,
        requestedBy: e.requestedBy,
        createdAt: e.createdAt,
      }));
      if (opts.json) io.out(`${JSON.stringify(rows)}\n`);
      else
        io.out(
          rows
            .map(
              (r) =>
                `${r.id}  ${r.status.padEnd(10)} ${r.purpose.padEnd(18)} ${String(r.subjects).padStart(6)} subjects  by ${r.requestedBy}`,
            )
            .join('\n') + (rows.length ? '\n' : 'No exports.\n'),
        );
    });

  for (const [name, approve] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    exp
      .command(name)
      .description(`${name} a pending export (acts as $CUSTODIAN_TOKEN; not the requester)`)
      .argument('<id>', 'export id')
      .requiredOption('--note <text>', 'why')
      .option('--config <file>', 'configuration file')
      .action(async (id: string, opts: { note: string; config?: string }) => {
        const record = await withRuntime(io, opts.config, async (rt) =>
          rt.oversight.decideExport(await principalFromEnv(io, rt.store), id, approve, opts.note),
        );
        io.out(`Export ${record.id}: ${record.status}.\n`);
      });
  }

  exp
    .command('download')
    .description(
      'build and download an approved export once, encrypted (acts as $CUSTODIAN_TOKEN, the requester)',
    )
    .argument('<id>', 'export id')
    .requiredOption('--out <file>', 'where to write the encrypted file')
    .option('--passphrase-file <file>', 'read the passphrase from this file')
    .option('--public-key <file>', 'encrypt to this X25519 public key (PEM)')
    .option('--config <file>', 'configuration file')
    .action(
      async (
        id: string,
        opts: { out: string; passphraseFile?: string; publicKey?: string; config?: string },
      ) => {
        if ((opts.passphraseFile === undefined) === (opts.publicKey === undefined))
          throw usage('give exactly one of --passphrase-file or --public-key');
        let to: ExportSealTo;
        if (opts.passphraseFile !== undefined) {
          const passphrase = readSecret(io, opts.passphraseFile, 'passphrase');
          if (passphrase.length < 12) throw usage('the passphrase needs at least 12 characters');
          to = { kind: 'passphrase', passphrase };
        } else {
          to = {
            kind: 'public-key',
            publicKey: parseX25519PublicKey(readSecret(io, opts.publicKey!, 'public key')),
          };
        }
        // Create the file first: the download is consumed once, so a bad --out must fail before it.
        const out = openOutput(io, '--out', opts.out, { mode: 0o600 });
        let result: { file: Buffer; subjects: number };
        try {
          result = await withRuntime(io, opts.config, async (rt) =>
            rt.oversight.downloadExport(await principalFromEnv(io, rt.store), id, to),
          );
        } catch (error) {
          out.discard();
          throw error;
        }
        const { file, subjects } = result;
        out.write(file, 'the export was downloaded and cannot be downloaded again; request a new one');
        io.out(`Wrote ${opts.out} (${subjects} subjects, encrypted, custodian-export/1).\n`);
      },
    );

  exp
    .command('decrypt')
    .description('decrypt an export file (for its recipient)')
    .argument('<file>', 'the encrypted export')
    .option('--passphrase-file <file>', 'passphrase file')
    .option('--private-key <file>', 'X25519 private key (PEM, PKCS#8)')
    .requiredOption('--out <file>', 'where to write the decrypted JSON (mode 0600)')
    .action((file: string, opts: { passphraseFile?: string; privateKey?: string; out: string }) => {
      if ((opts.passphraseFile === undefined) === (opts.privateKey === undefined))
        throw usage('give exactly one of --passphrase-file or --private-key');
      let data: Buffer;
      try {
        data = readFileSync(resolve(io.cwd, file));
      } catch (cause) {
        throw new CustodianError('ERR_USAGE_INVALID', `${file}: cannot read the export`, { cause });
      }
      const using =
        opts.passphraseFile !== undefined
          ? { passphrase: readSecret(io, opts.passphraseFile, 'passphrase') }
          : { privateKey: readPrivateKey(io, opts.privateKey!) };
      const out = openOutput(io, '--out', opts.out, { mode: 0o600 });
      let plain: Buffer;
      try {
        plain = openExport(data, using);
      } catch (error) {
        out.discard();
        throw error;
      }
      try {
        out.write(plain);
      } finally {
        plain.fill(0);
      }
      io.out(`Wrote ${opts.out}.\n`);
    });

  const bg = program.command('breakglass').description('break-glass review queue');
  bg.command('reviews')
    .description('grants waiting for a second person’s review')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const grants = await withRuntime(io, opts.config, (rt) =>
        allPages((page) => rt.oversight.pendingReviews(page)),
      );
      if (opts.json) io.out(`${JSON.stringify(grants)}\n`);
      else
        io.out(
          grants
            .map(
              (g) =>
                `${g.id}  ${g.grantedAt}  ${g.role.padEnd(16)} ${g.principalId}  ticket ${g.ticket}  purpose ${g.purpose}`,
            )
            .join('\n') + (grants.length ? '\n' : 'Nothing to review.\n'),
        );
    });
  bg.command('review')
    .description('close a review (acts as $CUSTODIAN_TOKEN; not the grant’s user)')
    .argument('<id>', 'grant id')
    .requiredOption('--outcome <outcome>', 'justified or unjustified')
    .requiredOption('--note <text>', 'what was checked')
    .option('--config <file>', 'configuration file')
    .action(async (id: string, opts: { outcome: string; note: string; config?: string }) => {
      if (opts.outcome !== 'justified' && opts.outcome !== 'unjustified')
        throw usage('--outcome: justified or unjustified');
      const outcome = opts.outcome;
      const g = await withRuntime(io, opts.config, async (rt) =>
        rt.oversight.reviewBreakGlass(await principalFromEnv(io, rt.store), id, outcome, opts.note),
      );
      io.out(`Grant ${g.id}: ${g.reviewOutcome ?? ''}.\n`);
    });
}
