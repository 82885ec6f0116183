import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { lintDatamap, lintSummary, type LintFinding } from '../../domain/datamap/lint.js';
import { CustodianError } from '../../domain/errors.js';
import type { CliIO } from '../io.js';
import { loadFor } from '../shared.js';

/** A finding with where it is in the configuration file, when that can be found. */
export interface LocatedFinding extends LintFinding {
  readonly line?: number;
  readonly column?: number;
}

export function datamapCommand(program: Command, io: CliIO): void {
  const datamap = program.command('datamap').description('check the data map');

  datamap
    .command('lint')
    .description(
      'check the data map against the PIPL rules (legal bases, separate consents, sensitive PI, retention, minimisation); exit 1 on errors',
    )
    .option('--config <file>', 'configuration file')
    .option('--json', 'print the findings as JSON')
    .action((opts: { config?: string; json?: boolean }) => {
      const loaded = loadFor(io, opts.config);
      const file = shown(io, loaded.path);
      const findings = locate(loaded.path, lintDatamap(loaded.config.datamap));
      const { errors, warnings } = lintSummary(findings);
      if (opts.json) {
        io.out(`${JSON.stringify({ file, findings, errors, warnings })}\n`);
      } else {
        const lines = findings.flatMap((f) => [
          `${f.severity.padEnd(7)}  ${f.path}  ${f.message} [${f.rule}]`,
          ...(f.line === undefined ? [] : [`         at ${file}:${f.line}:${f.column ?? 1}`]),
          ...(f.hint === undefined ? [] : [`         hint: ${f.hint}`]),
        ]);
        lines.push(
          findings.length === 0
            ? `${file}: the data map lints clean.`
            : `${file}: ${count(errors, 'error')}, ${count(warnings, 'warning')}.`,
        );
        io.out(`${lines.join('\n')}\n`);
      }
      if (errors > 0) {
        throw new CustodianError('ERR_CHECK_FAILED', `datamap lint: ${count(errors, 'error')} in ${file}`, {
          details: { errors, warnings },
        });
      }
    });
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function shown(io: CliIO, path: string): string {
  const rel = relative(io.cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/**
 * Adds the line and column of each finding's path in the file, sorted by line. A path that does
 * not exist in the file (a missing key) is placed at its nearest written ancestor's key.
 */
function locate(path: string, findings: readonly LintFinding[]): LocatedFinding[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [...findings];
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const located = findings.map((finding, order) => {
    const keys = finding.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
    const offset = offsetOf(doc.contents, keys);
    if (offset === undefined) return { finding, order, line: Infinity };
    const { line, col } = lines.linePos(offset);
    return { finding: { ...finding, line, column: col }, order, line };
  });
  return located.sort((a, b) => a.line - b.line || a.order - b.order).map((l) => l.finding);
}

/** Offset of the deepest written key (or sequence item) along `keys`. */
function offsetOf(root: unknown, keys: readonly (string | number)[]): number | undefined {
  let node: unknown = root;
  let offset: number | undefined;
  for (const key of keys) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
      if (pair === undefined) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}
