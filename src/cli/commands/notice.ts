import type { Command } from 'commander';
import { hasPermission } from '../../domain/access/roles.js';
import { CustodianError } from '../../domain/errors.js';
import type { CliIO } from '../io.js';
import { principalFromEnv, withRuntime } from '../shared.js';
import { table } from './staff.js';

interface AddOptions {
  titleZh: string;
  titleEn: string;
  bodyZh: string;
  bodyEn: string;
  config?: string;
  json?: boolean;
}

/** `custodian notice add | list`: the privacy centre's notices and updates feed (docs/privacy-centre.md). */
export function noticeCommand(program: Command, io: CliIO): void {
  const notice = program
    .command('notice')
    .description('notices and updates on the privacy centre (/privacy/notices, Atom feed)');

  notice
    .command('add')
    .description(
      'post a notice in both languages, as the privacy officer whose API key is in $CUSTODIAN_TOKEN',
    )
    .requiredOption('--title-zh <text>', 'title in Chinese')
    .requiredOption('--title-en <text>', 'title in English')
    .requiredOption('--body-zh <text>', 'text in Chinese')
    .requiredOption('--body-en <text>', 'text in English')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: AddOptions) => {
      const texts = {
        titleZh: opts.titleZh,
        titleEn: opts.titleEn,
        bodyZh: opts.bodyZh,
        bodyEn: opts.bodyEn,
      };
      for (const [name, value] of Object.entries(texts)) {
        const max = name.startsWith('title') ? 200 : 4000;
        if (value.trim() === '' || value.length > max)
          throw new CustodianError(
            'ERR_USAGE_INVALID',
            `--${name.replace(/[A-Z]/, (c) => `-${c.toLowerCase()}`)} must be 1 to ${max} characters`,
          );
      }
      const posted = await withRuntime(io, opts.config, async (rt) => {
        const principal = await principalFromEnv(io, rt.store);
        if (!hasPermission(rt.policy.roles, principal.role, 'privacy.notices'))
          throw new CustodianError('ERR_ACCESS_DENIED', `role "${principal.role}" lacks privacy.notices`, {
            details: { role: principal.role, permission: 'privacy.notices' },
          });
        return rt.privacyCentre.postNotice(principal, {
          title: { 'zh-CN': opts.titleZh.trim(), en: opts.titleEn.trim() },
          body: { 'zh-CN': opts.bodyZh.trim(), en: opts.bodyEn.trim() },
        });
      });
      if (opts.json) io.out(`${JSON.stringify({ id: posted.id, publishedAt: posted.publishedAt })}\n`);
      else io.out(`Notice ${posted.id} published at ${posted.publishedAt}.\n`);
    });

  notice
    .command('list')
    .description('list notices, newest first')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const notices = await withRuntime(io, opts.config, (rt) => rt.privacyCentre.notices(1000));
      if (opts.json) {
        io.out(`${JSON.stringify(notices)}\n`);
        return;
      }
      if (notices.length === 0) {
        io.out('No notices.\n');
        return;
      }
      io.out(
        table([
          ['ID', 'PUBLISHED', 'TITLE (zh-CN)', 'TITLE (en)'],
          ...notices.map((n) => [n.id, n.publishedAt, n.title['zh-CN'], n.title.en]),
        ]),
      );
    });
}
