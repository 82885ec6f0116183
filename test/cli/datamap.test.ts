import { Command, CommanderError } from 'commander';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { datamapCommand } from '../../src/cli/commands/datamap.js';
import type { CliIO } from '../../src/cli/io.js';
import { configTemplate } from '../../src/config/template.js';
import { isCustodianError } from '../../src/domain/errors.js';
import { tempDir } from '../support/tmp.js';

const template = configTemplate({ suite: 'aes-256-gcm', storeName: 'Test Store' });

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `custodian datamap ...` in-process with main's error handling: commander parse errors
 * exit 2, a CustodianError prints `custodian: <message>` and exits with its code.
 */
async function run(argv: string[], cwd: string): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    env: {},
    cwd,
    isTTY: false,
  };
  const program = new Command('custodian')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  datamapCommand(program, io);
  const all = (c: Command): Command[] => c.commands.flatMap((s) => [s, ...all(s)]);
  for (const c of all(program)) c.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (error) {
    if (error instanceof CommanderError) return { code: error.exitCode === 0 ? 0 : 2, stdout, stderr };
    if (isCustodianError(error)) {
      stderr += `custodian: ${error.message}\n`;
      return { code: error.exitCode, stdout, stderr };
    }
    throw error;
  }
}

interface JsonOutput {
  file: string;
  findings: {
    rule: string;
    severity: string;
    path: string;
    message: string;
    line?: number;
    column?: number;
  }[];
  errors: number;
  warnings: number;
}

describe('custodian datamap lint', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });
  const project = (yaml: string): string => {
    const dir = tempDir('custodian-datamap-');
    dirs.push(dir);
    writeFileSync(join(dir.path, 'custodian.yaml'), yaml);
    return dir.path;
  };

  it('exits 0 on the example data map', async () => {
    const result = await run(['datamap', 'lint'], project(template));
    expect(result).toEqual({ code: 0, stdout: 'custodian.yaml: the data map lints clean.\n', stderr: '' });
  });

  it('prints JSON with --json', async () => {
    const result = await run(['datamap', 'lint', '--json'], project(template));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      file: 'custodian.yaml',
      findings: [],
      errors: 0,
      warnings: 0,
    });
  });

  it('exits 1 on errors, naming severity, path, message, rule and line', async () => {
    const text = template.replace(
      '          sensitivity: sensitive        # PIPL Art. 28\n',
      '          sensitivity: sensitive        # PIPL Art. 28\n          protection: plain\n',
    );
    expect(text).not.toBe(template);
    const line = text.split('\n').lastIndexOf('          protection: plain') + 1;
    const result = await run(['datamap', 'lint'], project(text));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'error    datamap.collections.customs.fields.nationalId.protection  Field customs.nationalId holds sensitive PI',
    );
    expect(result.stdout).toContain('[sensitive-not-encrypted]');
    expect(result.stdout).toContain(`at custodian.yaml:${line}:11`);
    expect(result.stdout).toContain('hint: use protection: encrypt');
    expect(result.stdout).toMatch(/custodian\.yaml: 1 error, 0 warnings\.\n$/);
    expect(result.stderr).toBe('custodian: datamap lint: 1 error in custodian.yaml\n');
  });

  it('lists findings in file order in JSON, with their lines, and exits 1', async () => {
    const text = template
      .replace(
        '      legalBasis: consent           # PIPL Art. 13(1); never required for the order (Art. 16)\n      necessary: false\n',
        '      legalBasis: consent\n      necessary: true\n',
      )
      .replace('          category: identity.birth-date\n', '')
      .replace(
        '          freeText: { pii: mask }       # phone numbers, ids, cards or emails in it are masked before storing\n',
        '',
      );
    const result = await run(['datamap', 'lint', '--json'], project(text));
    expect(result.code).toBe(1);
    const out = JSON.parse(result.stdout) as JsonOutput;
    expect(out.errors).toBe(2);
    expect(out.warnings).toBe(1);
    expect(out.findings.map((f) => [f.severity, f.rule, f.path])).toEqual([
      ['error', 'consent-purpose-necessary', 'datamap.purposes.3.necessary'],
      ['error', 'field-missing-category', 'datamap.collections.profile.fields.birthDate.category'],
      ['warning', 'free-text-without-policy', 'datamap.collections.order.fields.buyerMessage.freeText'],
    ]);
    const lines = text.split('\n');
    expect(lines[out.findings[0]!.line! - 1]).toBe('      necessary: true');
    // A missing key is placed at its field.
    expect(lines[out.findings[1]!.line! - 1]).toBe('        birthDate:');
    expect(lines[out.findings[2]!.line! - 1]).toBe('        buyerMessage:');
  });

  it('exits 0 when there are only warnings', async () => {
    const text = template.replace(
      '          freeText: { pii: mask }       # phone numbers, ids, cards or emails in it are masked before storing\n',
      '',
    );
    const result = await run(['datamap', 'lint'], project(text));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('warning  datamap.collections.order.fields.buyerMessage.freeText');
    expect(result.stdout).toContain('custodian.yaml: 0 errors, 1 warning.');
  });

  it('exits 2 on an invalid or missing configuration, and on bad usage', async () => {
    const bad = await run(
      ['datamap', 'lint'],
      project(template.replace('      role: processor\n', '      role: carrier\n')),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^custodian: \S*custodian\.yaml:\d+:\d+: datamap\.recipients\.0\.role: /);

    const dir = project(template);
    expect((await run(['datamap', 'lint', '--config', 'nope.yaml'], dir)).code).toBe(2);
    expect((await run(['datamap', 'lint', '--bogus'], dir)).code).toBe(2);
  });

  it('takes --config', async () => {
    const dir = project('not: a config\n');
    writeFileSync(join(dir, 'other.yaml'), template);
    const result = await run(['datamap', 'lint', '--config', 'other.yaml'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('other.yaml: the data map lints clean.\n');
  });
});
