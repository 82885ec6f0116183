import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { syntheticExportRows, writeSyntheticExport } from '../../platforms/tmall/synthetic-export.js';
import { estimateTotalRows, IMPORTER, importTmallOrders } from '../../services/importer.js';
import { openRuntime } from '../../services/runtime.js';
import { initProject } from '../../services/setup.js';
import type { CliIO } from '../io.js';
import { progress } from '../progress.js';
import { parsePort, usage } from '../shared.js';
import { formatSummary } from './import.js';
import { serve } from './serve.js';
import { CLI_ACTOR } from './staff.js';

/** The demo's staff: one per built-in role, to try separation of duties. */
const DEMO_STAFF = [
  { username: 'officer', role: 'privacy-officer', displayName: '个人信息保护负责人' },
  { username: 'ops', role: 'operator', displayName: '客服 小王' },
  { username: 'marketing', role: 'marketing', displayName: '会员运营 小李' },
  { username: 'auditor', role: 'auditor', displayName: '内审 老张' },
] as const;

export const DEMO_EXPORT = 'orders-export.csv';
export const DEMO_CREDENTIALS = 'credentials.txt';

interface DemoOptions {
  dir: string;
  host: string;
  port: string;
  customers: string;
}

interface Created {
  readonly operatorToken: string;
  readonly sampleOaid: string;
  readonly samplePhone: string;
}

/**
 * Creates the demo store: init, a synthetic GBK order export imported through the real importer,
 * staff for every role with their TOTP secrets, API keys. Everything secret is printed once and
 * kept in `credentials.txt` (0600) in the demo folder, so a second run can point to it.
 */
async function createDemo(io: CliIO, dir: string, customers: number): Promise<Created> {
  const { configPath, adminToken } = await initProject({ dir, storeName: 'Custodian Demo Tmall Store' });
  const exportPath = join(dir, DEMO_EXPORT);
  io.err(`Writing ${DEMO_EXPORT}: a GBK Tmall order export of ${customers} synthetic customers…\n`);
  const written = await writeSyntheticExport(exportPath, {
    seed: 'custodian-demo',
    customers,
    encoding: 'gbk',
    // A few malformed rows (about eight), to show how rejects are reported.
    malformedEvery: Math.max(25, Math.round(customers / 4)),
  });
  const { config } = loadConfig({ explicit: configPath, env: io.env });
  const runtime = await openRuntime(config);
  try {
    const bar = progress(io, 'importing orders');
    const summary = await importTmallOrders(
      { store: runtime.store, vault: runtime.vault, datamap: config.datamap, now: () => new Date() },
      IMPORTER,
      {
        file: exportPath,
        onProgress: (p) => {
          if (p.rows > 0) bar.update(p.rows, estimateTotalRows(p));
        },
      },
    );
    bar.stop();
    io.out(`${formatSummary(summary)}\n`);

    const lines: string[] = [
      `Custodian demo credentials (${new Date().toISOString()}). Keep this file private.`,
      '',
    ];
    lines.push(
      `bootstrap API key (security-admin: accounts and keys, no customer data)`,
      `  ${adminToken}`,
      '',
    );
    for (const s of DEMO_STAFF) {
      const added = await runtime.staff.add(
        { username: s.username, role: s.role, displayName: s.displayName },
        CLI_ACTOR,
      );
      lines.push(
        `staff ${s.username} (${s.role})`,
        `  password     ${added.generatedPassword ?? '(given)'}`,
        `  TOTP secret  ${added.totp.secret}`,
        `  TOTP URI     ${added.totp.uri}`,
        '',
      );
    }
    const operator = await runtime.apiKeys.create({ role: 'operator', name: 'demo order desk' }, CLI_ACTOR);
    const officer = await runtime.apiKeys.create(
      { role: 'privacy-officer', name: 'demo privacy officer' },
      CLI_ACTOR,
    );
    lines.push(
      `API key "demo order desk" (operator: fulfilment and customer service, masked contact data)`,
      `  ${operator.token}`,
      `API key "demo privacy officer" (privacy-officer: requests, erasure, audit)`,
      `  ${officer.token}`,
      '',
    );
    writeFileSync(join(dir, DEMO_CREDENTIALS), `${lines.join('\n')}\n`, { mode: 0o600 });
    io.out(`${lines.slice(2).join('\n')}\n`);
    io.err(
      `The export had ${written.rows} rows, ${written.malformed.length} of them deliberately malformed.\n`,
    );
    // A buyer to look up: the first of the export with a real mobile (synthetic, no real person).
    let sample = { oaid: '', mobile: '' };
    for (const { truth } of syntheticExportRows({ seed: 'custodian-demo', customers })) {
      if (truth.mobile === 'real' && truth.malformed === undefined) {
        sample = { oaid: truth.customer.oaid, mobile: truth.customer.mobile };
        break;
      }
    }
    return { operatorToken: operator.token, sampleOaid: sample.oaid, samplePhone: sample.mobile };
  } finally {
    await runtime.close();
  }
}

function tryThis(url: string, created: Created | undefined, dir: string): string {
  const token = created?.operatorToken ?? '<operator API key from credentials.txt>';
  const base = url.replace(/\/$/u, '');
  return [
    '',
    'Try it (the operator key sees contact data masked; the audit log records every read):',
    `  export TOKEN=${token}`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/subjects?oaid=${created?.sampleOaid ?? '<OAID>'}&purpose=order-fulfilment'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/subjects?phone=${created?.samplePhone ?? '<mobile>'}&purpose=customer-service'`,
    `  curl -s -H "Authorization: Bearer $TOKEN" '${base}/v1/subjects/<subjectId>?purpose=customer-service'`,
    `  curl -s ${base}/openapi.json | head -c 300; echo`,
    `Staff sign-in (password + TOTP) and every secret: ${join(dir, DEMO_CREDENTIALS)}`,
    `The imported export: ${join(dir, DEMO_EXPORT)} (re-import: custodian import tmall-orders ${join(dir, DEMO_EXPORT)} --config ${join(dir, 'custodian.yaml')})`,
    '',
  ].join('\n');
}

/**
 * The demo store: a folder on the embedded database, created and filled on first run, then
 * served. `npm start` runs this.
 */
export function demoCommand(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('create (first run: synthetic Tmall orders imported, demo staff) and serve a demo store')
    .option('--dir <dir>', 'demo folder', 'demo')
    .option('--customers <n>', 'synthetic customers on first run', '5000')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port to bind', '8080')
    .action(async (opts: DemoOptions) => {
      if (!/^\d{1,7}$/.test(opts.customers) || Number(opts.customers) < 1)
        throw usage('--customers: expected a positive integer');
      parsePort(opts.port);
      const dir = resolve(io.cwd, opts.dir);
      const configPath = join(dir, 'custodian.yaml');
      let created: Created | undefined;
      if (!existsSync(configPath)) {
        created = await createDemo(io, dir, Number(opts.customers));
        io.out(`Created the demo store in ${dir}\n`);
      } else if (!existsSync(join(dir, DEMO_CREDENTIALS))) {
        throw usage(
          `${dir} holds an unfinished demo (its first run was interrupted): remove the folder and run again`,
        );
      } else io.out(`Serving the demo store in ${dir} (credentials: ${join(dir, DEMO_CREDENTIALS)})\n`);
      await serve(io, { config: configPath, host: opts.host, port: opts.port }, (url) =>
        io.out(tryThis(url, created, dir)),
      );
    });
}
