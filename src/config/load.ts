import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
} from 'yaml';
import type { z } from 'zod';
import { CustodianError } from '../domain/errors.js';
import { configSchema, type Config, type IndexRootConfig, type RootKeyConfig } from './schema.js';

/** One problem in a configuration file, located for a human. */
export interface ConfigProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /**
   * Dotted key path, e.g. `database.engine`. For a YAML syntax error, the key the parser was in
   * when it stopped (empty before the first key).
   */
  readonly key: string;
  readonly message: string;
}

export interface LoadedConfig {
  /** Absolute path of the file that was read. */
  readonly path: string;
  /** Folder the relative paths in the file resolve against. */
  readonly dir: string;
  readonly config: Config;
}

export interface ConfigSource {
  /** `--config`, highest precedence. */
  readonly explicit?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/** `--config`, then `CUSTODIAN_CONFIG`, then `./custodian.yaml`. */
export function resolveConfigPath(source: ConfigSource = {}): string {
  const env = source.env ?? process.env;
  const cwd = source.cwd ?? process.cwd();
  const chosen = source.explicit ?? env['CUSTODIAN_CONFIG'] ?? 'custodian.yaml';
  return resolve(cwd, chosen);
}

/** Reads, interpolates, validates, resolves and deep-freezes a configuration file. */
export function loadConfig(source: ConfigSource = {}): LoadedConfig {
  const path = resolveConfigPath(source);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new CustodianError(
      'ERR_CONFIG_NOT_FOUND',
      `${displayPath(path)}: cannot read the configuration file`,
      {
        cause,
        details: { file: displayPath(path) },
      },
    );
  }
  const config = parseConfig(text, path, source.env ?? process.env);
  return { path, dir: dirname(path), config: resolvePaths(config, dirname(path)) };
}

/**
 * Parses configuration text. `file` is used for messages and to resolve nothing else; the result
 * is validated and frozen but its relative paths are left as written.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const shown = displayPath(file);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const at = (offset: number, key: string, message: string): ConfigProblem => {
    const { line, col } = lines.linePos(offset);
    return { file: shown, line, column: col, key, message };
  };

  for (const error of doc.errors) {
    const offset = error.pos[0];
    const key = keyBefore(doc, offset, error.code === 'DUPLICATE_KEY');
    problems.push(at(offset, key, error.message.split('\n')[0] ?? error.code));
  }
  if (problems.length > 0) throw invalid(problems);

  // Secrets may come from the environment: `${env:NAME}` anywhere inside a string value.
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      node.value = node.value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
        const value = env[name];
        if (value === undefined) {
          problems.push(
            at(node.range?.[0] ?? 0, keyPathOf(path, node), `environment variable ${name} is not set`),
          );
          return '';
        }
        return value;
      });
    },
  });
  if (problems.length > 0) throw invalid(problems);

  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(...locateIssue(doc, issue, at));
    throw invalid(problems);
  }
  return deepFreeze(parsed.data);
}

function locateIssue(
  doc: Document,
  issue: z.core.$ZodIssue,
  at: (offset: number, key: string, message: string) => ConfigProblem,
): ConfigProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const parent = doc.getIn(path, true) as Node | undefined;
    return issue.keys.map((key) => {
      let offset = parent?.range?.[0] ?? 0;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
        if (pair && isScalar(pair.key)) offset = pair.key.range?.[0] ?? offset;
      }
      return at(offset, [...path, key].join('.'), 'unknown key');
    });
  }
  // The nearest node that exists: a missing key is reported at its parent.
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as Node | undefined;
    if (node?.range) return [at(node.range[0], path.join('.'), issue.message)];
  }
  return [at(0, path.join('.'), issue.message)];
}

/**
 * The key a syntax error belongs to: the last key that starts before the parser stopped (an
 * unclosed `[` or quote is reported where the next key begins), or, for a duplicate, the key at
 * the error itself. Empty when the error comes before any key.
 */
function keyBefore(doc: Document, offset: number, inclusive: boolean): string {
  let best: { start: number; key: string } | undefined;
  visit(doc, {
    Pair(_key, pair, path) {
      if (!isScalar(pair.key)) return;
      const start = pair.key.range?.[0];
      if (start === undefined || start > offset || (start === offset && !inclusive)) return;
      if (best !== undefined && start < best.start) return;
      const parent = keyPathOf(path, pair);
      const own = String(pair.key.value);
      best = { start, key: parent ? `${parent}.${own}` : own };
    },
  });
  return best?.key ?? '';
}

function keyPathOf(path: readonly unknown[], node: unknown): string {
  const keys: string[] = [];
  path.forEach((step, i) => {
    if (isPair(step) && isScalar(step.key)) keys.push(String(step.key.value));
    else if (isSeq(step)) keys.push(String(step.items.indexOf(path[i + 1] ?? node)));
  });
  return keys.join('.');
}

function invalid(problems: readonly ConfigProblem[]): CustodianError {
  const lines = problems.map(
    (p) => `${p.file}:${p.line}:${p.column}: ${p.key ? `${p.key}: ` : ''}${p.message}`,
  );
  return new CustodianError('ERR_CONFIG_INVALID', lines.join('\n'), { details: { problems } });
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function resolvePaths(config: Config, dir: string): Config {
  const abs = (p: string): string => resolve(dir, p);
  const database =
    config.database.engine === 'sqlite'
      ? { ...config.database, path: abs(config.database.path) }
      : config.database;
  const root = (r: RootKeyConfig): RootKeyConfig => (r.provider === 'file' ? { ...r, path: abs(r.path) } : r);
  const index = (r: IndexRootConfig): IndexRootConfig => ({ ...r, path: abs(r.path) });
  return deepFreeze({
    ...config,
    database,
    audit: { ...config.audit, signingKey: abs(config.audit.signingKey) },
    consent: {
      ...config.consent,
      receiptKey: abs(config.consent.receiptKey),
      retiredReceiptKeys: config.consent.retiredReceiptKeys.map(abs),
    },
    keys: {
      ...config.keys,
      root: root(config.keys.root),
      retiredRoots: config.keys.retiredRoots.map(root),
      index: index(config.keys.index),
      retiredIndexes: config.keys.retiredIndexes.map(index),
    },
  });
}

/** Freezes an object graph so configuration cannot change after validation. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
