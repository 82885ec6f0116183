import { Command, CommanderError } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import { parseCsv, piiCommand, readStdin } from '../../src/cli/commands/pii.js';
import type { CliIO } from '../../src/cli/io.js';
import { isCustodianError } from '../../src/domain/errors.js';
import { tempDir } from '../support/tmp.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs `custodian pii …` in-process the way src/cli/main.ts does, with captured output. */
async function runPii(argv: string[], options: { cwd?: string; stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    out: (text) => (stdout += text),
    err: (text) => (stderr += text),
    env: {},
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  };
  const program = new Command('custodian')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const stdin = options.stdin;
  piiCommand(program, io, stdin === undefined ? {} : { stdin: () => Promise.resolve(stdin) });
  for (const c of allCommands(program))
    c.exitOverride().configureOutput({ writeOut: io.out, writeErr: io.err });
  let code = 0;
  try {
    await program.parseAsync(['pii', ...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? 0 : 2;
    else if (isCustodianError(error)) {
      io.err(`custodian: ${error.message}\n`);
      code = error.exitCode;
    } else throw error;
  }
  return { code, stdout, stderr };
}

const MOBILE = '13812345678';
const ID = '11010519491231002X';
const CARD = '6222021234567893445';
const EMAIL = 'zhangsan88@163.com';
const SECRETS = [MOBILE, ID, CARD, EMAIL, '6222 0212 3456 7893 445', '1234 5678', 'zhangsan88'];

function expectNoClearValues(run: Run): void {
  for (const secret of SECRETS) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

describe('custodian pii scan', () => {
  const dirs: { remove: () => void }[] = [];
  const fresh = (): string => {
    const d = tempDir('custodian-pii-');
    dirs.push(d);
    return d.path;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.remove();
  });

  it('reports PII in a text file by line and column, masked, and exits 1', async () => {
    const cwd = fresh();
    writeFileSync(
      join(cwd, 'notes.txt'),
      `请尽快发货\n电话${MOBILE}，身份证${ID}\n退款到卡号${CARD}，邮箱${EMAIL}\n订单号3012345678901234567\n`,
    );
    const run = await runPii(['scan', 'notes.txt'], { cwd });
    expect(run.code).toBe(1);
    expectNoClearValues(run);
    expect(run.stdout).toContain('mobile');
    expect(run.stdout).toContain('line 2, col 3');
    expect(run.stdout).toContain('138****5678');
    expect(run.stdout).toContain('110***********002X');
    expect(run.stdout).toContain('622202*********3445');
    expect(run.stdout).toContain('z***@163.com');
    expect(run.stdout).toContain('4 findings (mobile 1, national-id 1, bank-card 1, email 1)');
    expect(run.stderr).toContain('personal information found in notes.txt');
  });

  it('prints JSON lines with --json', async () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'a.txt'), `hello\n手机 ${MOBILE}\n`);
    const run = await runPii(['scan', 'a.txt', '--json'], { cwd });
    expect(run.code).toBe(1);
    expectNoClearValues(run);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      {
        type: 'mobile',
        masked: '138****5678',
        confidence: expect.any(Number),
        start: 3,
        end: 14,
        context: ['手机'],
        line: 2,
        column: 4,
      },
    ]);
  });

  it('exits 0 with a clean report when nothing is found', async () => {
    const cwd = fresh();
    writeFileSync(
      join(cwd, 'clean.txt'),
      '订单号3012345678901234567什么时候发货\n运单号SF1234567890123\n金额¥1,288.00\n',
    );
    const run = await runPii(['scan', 'clean.txt'], { cwd });
    expect(run).toEqual({ code: 0, stdout: 'No personal information found.\n', stderr: '' });
    const json = await runPii(['scan', 'clean.txt', '--json'], { cwd });
    expect(json).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('reads CSV (by extension) and reports row and column', async () => {
    const cwd = fresh();
    writeFileSync(
      join(cwd, 'orders.csv'),
      `order_id,buyer_message,note\r\n3012345678901234567,"请送到门卫, 电话${MOBILE}",ok\r\n3012345678901234568,"多行\n""备注""",卡号 6222 0212 3456 7893 445\r\n`,
    );
    const run = await runPii(['scan', 'orders.csv', '--json'], { cwd });
    expect(run.code).toBe(1);
    expectNoClearValues(run);
    const findings = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(findings.map((f) => [f['type'], f['row'], f['column'], f['masked']])).toEqual([
      ['mobile', 2, 2, '138****5678'],
      ['bank-card', 3, 3, '622202*********3445'],
    ]);
    const table = await runPii(['scan', 'orders.csv'], { cwd });
    expect(table.stdout).toContain('row 2, col 2');
    expectNoClearValues(table);
  });

  it('reads standard input for - (and when no file is given), as text or with --csv', async () => {
    const stdin = `call me ${MOBILE}`;
    const run = await runPii(['scan', '-'], { stdin });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('138****5678');
    expect(run.stderr).toContain('standard input');
    expectNoClearValues(run);
    expect((await runPii(['scan'], { stdin: '请尽快发货' })).code).toBe(0);
    const csv = await runPii(['scan', '-', '--csv', '--json'], { stdin: `a,"b ${MOBILE}"\n` });
    expect(JSON.parse(csv.stdout)).toMatchObject({ type: 'mobile', row: 1, column: 2 });
  });

  it('honours --min-confidence', async () => {
    const stdin = `身份证${ID}\n${CARD}\n`;
    expect((await runPii(['scan', '-', '--json'], { stdin })).stdout.trim().split('\n')).toHaveLength(2);
    const strict = await runPii(['scan', '-', '--json', '--min-confidence', '0.95'], { stdin });
    expect(
      strict.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { type: string }).type),
    ).toEqual(['national-id']);
    expect((await runPii(['scan', '-', '--min-confidence', '1.5'], { stdin })).code).toBe(2);
    expect((await runPii(['scan', '-', '--min-confidence', 'high'], { stdin })).code).toBe(2);
  });

  it('exits 2 naming the file when it is missing, a directory, binary or malformed CSV', async () => {
    const cwd = fresh();
    const missing = await runPii(['scan', 'nope.txt'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.txt: no such file');
    mkdirSync(join(cwd, 'dir'));
    const dir = await runPii(['scan', 'dir'], { cwd });
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain('dir: is a directory');
    writeFileSync(join(cwd, 'bin.txt'), Buffer.from([0x31, 0x00, 0x32]));
    const binary = await runPii(['scan', 'bin.txt'], { cwd });
    expect(binary.code).toBe(2);
    expect(binary.stderr).toContain('bin.txt');
    writeFileSync(join(cwd, 'latin1.txt'), Buffer.from([0x61, 0xe9, 0x62]));
    expect((await runPii(['scan', 'latin1.txt'], { cwd })).stderr).toContain('latin1.txt: not UTF-8 text');
    writeFileSync(join(cwd, 'bad.csv'), `a,"unterminated ${MOBILE}\n`);
    const bad = await runPii(['scan', 'bad.csv'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.csv: malformed CSV');
    expectNoClearValues(bad);
    expect((await runPii(['scan', '--bogus'], { cwd })).code).toBe(2);
  });
});

describe('parseCsv (RFC 4180)', () => {
  it('reads quoted fields with commas, doubled quotes, line breaks and CRLF', () => {
    expect(parseCsv('a,b\r\n"x, y","he said ""hi"""\r\n"multi\nline",\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'he said "hi"'],
      ['multi\nline', ''],
    ]);
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('a')).toEqual([['a']]);
    expect(parseCsv('""')).toEqual([['']]);
    expect(parseCsv('a,\n')).toEqual([['a', '']]);
  });

  it('rejects an unterminated quote and text after a closing quote', () => {
    expect(() => parseCsv('"abc')).toThrow(/unterminated quoted field in record 1/);
    expect(() => parseCsv('a\n"abc"x,1')).toThrow(/text after a closing quote in record 2/);
  });
});

describe('readStdin', () => {
  it('reads a whole stream as UTF-8 text', async () => {
    const stream = Readable.from([Buffer.from('电话'), Buffer.from(MOBILE)]);
    expect(await readStdin(stream)).toBe(`电话${MOBILE}`);
  });
});
