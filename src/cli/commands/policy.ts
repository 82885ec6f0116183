import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { writePolicyQr } from '../../services/policy-qr.js';
import type { CliIO } from '../io.js';
import { usage, withRuntime } from '../shared.js';

function lang(value: string): 'zh-CN' | 'en' {
  if (value !== 'zh-CN' && value !== 'en') throw usage('--lang: zh-CN or en');
  return value;
}

function versionNumber(value: string, what: string): number {
  if (!/^[1-9]\d{0,6}$/.test(value)) throw usage(`${what}: a version number`);
  return Number(value);
}

/** `custodian policy render | publish | versions | diff | qr`: the privacy policy from the data map. */
export function policyCommand(program: Command, io: CliIO): void {
  const policy = program
    .command('policy')
    .description('the privacy policy generated from the data map: render, publish, diff, QR code');

  policy
    .command('render')
    .description('render the latest published version (or the current draft) as HTML or Markdown')
    .option('--lang <lang>', 'zh-CN or en', 'zh-CN')
    .option('--format <format>', 'html or md', 'html')
    .option('--version <n>', 'a published version number')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--config <file>', 'configuration file')
    .action(
      async (opts: { lang: string; format: string; version?: string; out?: string; config?: string }) => {
        if (opts.format !== 'html' && opts.format !== 'md') throw usage('--format: html or md');
        const format = opts.format;
        const version = opts.version === undefined ? undefined : versionNumber(opts.version, '--version');
        const text = await withRuntime(io, opts.config, (rt) =>
          rt.privacyPolicy.render({ lang: lang(opts.lang), format, version, document: format === 'html' }),
        );
        if (opts.out) writeFileSync(resolve(io.cwd, opts.out), text);
        else io.out(text.endsWith('\n') ? text : `${text}\n`);
      },
    );

  policy
    .command('publish')
    .description(
      'publish the data map’s policy as a new version if it changed; says whether re-consent is needed',
    )
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const outcome = await withRuntime(io, opts.config, (rt) => rt.privacyPolicy.publish());
      const v = outcome.version;
      if (opts.json) {
        io.out(
          `${JSON.stringify({ number: v.number, created: outcome.created, requiresReconsent: v.requiresReconsent, reconsentPurposes: v.reconsentPurposes, fingerprint: v.fingerprint })}\n`,
        );
      } else if (!outcome.created) {
        io.out(`The policy is unchanged: version ${v.number}.\n`);
      } else {
        io.out(
          `Published version ${v.number}${v.requiresReconsent ? `; re-consent required for: ${v.reconsentPurposes.join(', ')}` : ''}.\n`,
        );
      }
    });

  policy
    .command('versions')
    .description('list published versions')
    .option('--config <file>', 'configuration file')
    .option('--json', 'print as JSON')
    .action(async (opts: { config?: string; json?: boolean }) => {
      const versions = await withRuntime(io, opts.config, (rt) => rt.privacyPolicy.versions());
      const rows = versions.map((v) => ({
        number: v.number,
        publishedAt: v.publishedAt,
        requiresReconsent: v.requiresReconsent,
        fingerprint: v.fingerprint.slice(0, 12),
      }));
      if (opts.json) io.out(`${JSON.stringify(rows)}\n`);
      else
        io.out(
          rows
            .map(
              (r) =>
                `v${r.number}  ${r.publishedAt}  ${r.fingerprint}${r.requiresReconsent ? '  re-consent' : ''}`,
            )
            .join('\n') + (rows.length ? '\n' : 'No version published yet.\n'),
        );
    });

  policy
    .command('diff')
    .description('what changed between two published versions, and whether it needs re-consent')
    .argument('<a>', 'older version number')
    .argument('<b>', 'newer version number')
    .option('--lang <lang>', 'zh-CN or en', 'zh-CN')
    .option('--format <format>', 'text or md', 'text')
    .option('--config <file>', 'configuration file')
    .action(async (a: string, b: string, opts: { lang: string; format: string; config?: string }) => {
      if (opts.format !== 'text' && opts.format !== 'md') throw usage('--format: text or md');
      const format = opts.format;
      const { text } = await withRuntime(io, opts.config, (rt) =>
        rt.privacyPolicy.diff(versionNumber(a, 'A'), versionNumber(b, 'B'), lang(opts.lang), format),
      );
      io.out(text.endsWith('\n') ? text : `${text}\n`);
    });

  policy
    .command('qr')
    .description('write a PNG and an SVG QR code of the policy URL for a Tmall storefront')
    .requiredOption(
      '--url <url>',
      'the public URL of the privacy centre’s policy, e.g. https://shop.example/privacy/policy',
    )
    .option('--out <base>', 'output path without extension', 'privacy-policy-qr')
    .action(async (opts: { url: string; out: string }) => {
      const files = await writePolicyQr(opts.url, resolve(io.cwd, opts.out));
      io.out(`Wrote ${files.png} and ${files.svg}.\n`);
    });
}
