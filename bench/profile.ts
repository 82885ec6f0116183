/**
 * Summarises a V8 `.cpuprofile` of a benchmark into where the time went, by layer:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/run.ts ingest --rows 5000 --rounds 1
 *   node --import tsx bench/profile.ts /tmp/prof/CPU.*.cpuprofile
 *
 * The profile covers the whole process (set-up, warm-up, both sides), so read the shares, not
 * the milliseconds. Native SQLite time shows up as self time of the JS frame that called it.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function bucket(stack: readonly CallFrame[]): string {
  const top = stack[0]!;
  const under = (name: string): boolean => stack.some((f) => f.functionName === name);
  if (top.functionName === '(idle)' || top.functionName === '(program)') return 'idle/program';
  if (top.functionName === '(garbage collector)') return 'gc';
  if (top.functionName === 'executeQuery' && top.url.includes('sqlite-driver')) {
    if (under('commitTransaction')) return 'sqlite: commit (WAL writes, checkpoints)';
    if (under('beginTransaction')) return 'sqlite: begin';
    return 'sqlite: run statements';
  }
  if (top.functionName === 'prepare' && top.url.includes('better-sqlite3'))
    return 'sqlite: prepare statements';
  if (top.url.includes('/pg/') || top.url.includes('/pg-')) return 'pg driver';
  if (top.url.includes('/kysely/')) return 'kysely: build, compile, run';
  const src = stack.find((f) => f.url.includes('/src/'));
  if (src !== undefined) {
    const file = src.url.slice(src.url.indexOf('/src/') + 5);
    if (file.startsWith('crypto/') || file.startsWith('keys/')) return `crypto: ${file}`;
    return `src: ${file}`;
  }
  if (stack.some((f) => f.url.includes('/bench/'))) return 'bench harness';
  return 'other (loader, node internals)';
}

function summarise(path: string): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totals = new Map<string, number>();
  let busy = 0;
  for (const [id, micros] of self) {
    const stack: CallFrame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at))
      stack.push(byId.get(at)!.callFrame);
    const name = bucket(stack);
    totals.set(name, (totals.get(name) ?? 0) + micros);
    if (name !== 'idle/program') busy += micros;
  }
  console.log(`${path}: ${(busy / 1000).toFixed(0)} ms busy`);
  for (const [name, micros] of [...totals].sort((a, b) => b[1] - a[1])) {
    if (name === 'idle/program') continue;
    console.log(
      `${((100 * micros) / busy).toFixed(1).padStart(6)}%  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  }
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node --import tsx bench/profile.ts FILE.cpuprofile ...');
  process.exitCode = 2;
}
for (const file of files) summarise(file);
