import type { Command } from 'commander';
import { resolve } from 'node:path';
import { createKeyFile } from '../../keys/file.js';
import { Pkcs11RootKeyProvider } from '../../keys/index.js';
import { openRuntime } from '../../services/runtime.js';
import type { CliIO } from '../io.js';
import { progress } from '../progress.js';
import { loadFor, usage } from '../shared.js';

interface RotateOptions {
  config?: string;
  root?: boolean;
  subjects?: boolean;
  index?: boolean;
  batch: string;
  olderThan?: string;
  json?: boolean;
}

const DURATION = /^(\d+)(d|h)$/;

export function keysCommand(program: Command, io: CliIO): void {
  const keys = program.command('keys').description('key status, rotation and new root keys');

  keys
    .command('status')
    .description('show key versions, counts and ages')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const runtime = await openRuntime(loadFor(io, opts.config).config);
      try {
        const status = await runtime.rotation.status();
        if (opts.json) {
          io.out(`${JSON.stringify(status)}\n`);
          return;
        }
        const lines = [
          `suite            ${status.suite}`,
          `root key         ${status.currentRoot}`,
          `subjects         ${status.subjects.active} active, ${status.subjects.erased} erased`,
          `subject keys     ${status.keys.keys} (oldest ${status.keys.oldest ?? '-'}, newest ${status.keys.newest ?? '-'})`,
          ...status.keys.byRoot.map(
            (r) =>
              `  wrapped by ${r.rootKeyId}${r.rootKeyId === status.currentRoot ? ' (current)' : ''}: ${r.keys}`,
          ),
          ...status.keys.byVersion.map((v) => `  version ${v.version}: ${v.keys}`),
          ...status.keys.bySuite.map((s) => `  suite ${s.suite}: ${s.keys}`),
          `index key        version ${status.index.current} (active: ${status.index.active.join(', ')})`,
          ...status.index.rows.map((r) => `  index version ${r.indexVersion}: ${r.rows} identities`),
        ];
        io.out(`${lines.join('\n')}\n`);
      } finally {
        await runtime.close();
      }
    });

  keys
    .command('rotate')
    .description(
      'rewrap subject keys (--root), re-encrypt subjects under new keys (--subjects) or recompute blind indexes (--index); online, batched, resumable',
    )
    .option('--config <file>', 'configuration file')
    .option('--root', 'rewrap every subject key under keys.root')
    .option('--subjects', 're-encrypt each subject under a new data key version')
    .option('--index', 'recompute blind-index tokens under keys.index')
    .option('--batch <n>', 'keys or subjects per unit of work', '200')
    .option('--older-than <age>', 'with --subjects: only keys older than this (e.g. 90d, 12h)')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: RotateOptions) => {
      const chosen = [opts.root, opts.subjects, opts.index].filter(Boolean).length;
      if (chosen !== 1) throw usage('choose exactly one of --root, --subjects, --index');
      if (!/^\d{1,6}$/.test(opts.batch) || Number(opts.batch) < 1)
        throw usage('--batch: expected a positive integer');
      let olderThan: Date | undefined;
      if (opts.olderThan !== undefined) {
        const m = DURATION.exec(opts.olderThan);
        if (!m) throw usage('--older-than: expected a duration such as 90d or 12h');
        olderThan = new Date(Date.now() - Number(m[1]) * (m[2] === 'd' ? 86_400_000 : 3_600_000));
      }
      const runtime = await openRuntime(loadFor(io, opts.config).config);
      const bar = progress(
        io,
        opts.root ? 'rewrapping keys' : opts.subjects ? 're-encrypting subjects' : 'reindexing identities',
      );
      try {
        const batchSize = Number(opts.batch);
        const onProgress = (p: { done: number; total: number }): void => bar.update(p.done, p.total);
        const outcome = opts.root
          ? await runtime.rotation.rotateRoot({ batchSize, onProgress })
          : opts.subjects
            ? await runtime.rotation.rotateSubjects({
                batchSize,
                onProgress,
                ...(olderThan ? { olderThan } : {}),
              })
            : await runtime.rotation.rotateIndex({ batchSize, onProgress });
        bar.stop();
        if (opts.json) io.out(`${JSON.stringify(outcome)}\n`);
        else
          io.out(
            `Rotation ${outcome.kind} done: ${outcome.processed} processed${outcome.resumed ? ' (resumed an interrupted run)' : ''}.\n`,
          );
      } finally {
        bar.stop();
        await runtime.close();
      }
    });

  keys
    .command('new-root')
    .description(
      'create a new root key: a 0600 key file (--out), or the configured PKCS#11 token key if it is missing',
    )
    .option('--config <file>', 'configuration file')
    .option('--out <file>', 'write a new 32-byte key file here (file provider)')
    .action(async (opts: { config?: string; out?: string }) => {
      if (opts.out !== undefined) {
        const path = resolve(io.cwd, opts.out);
        createKeyFile(path);
        io.out(
          `Created ${path}.\nTo rotate: move the current keys.root entry into keys.retiredRoots, set keys.root.path to this file, then run custodian keys rotate --root.\n`,
        );
        return;
      }
      const { config } = loadFor(io, opts.config);
      if (config.keys.root.provider !== 'pkcs11')
        throw usage('--out is required unless keys.root uses the pkcs11 provider');
      const result = await Pkcs11RootKeyProvider.ensureKey(config.keys.root);
      io.out(
        `${result.created ? 'Generated' : 'Found'} ${result.keyId} (non-extractable, inside the token).\n`,
      );
    });
}
