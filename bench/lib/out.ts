import { execFileSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';

/**
 * Output discipline: stdout carries exactly one JSON line per benchmark, so `npm run bench | jq`
 * works; everything for humans goes to stderr.
 */

export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function emit(result: Readonly<Record<string, unknown>>): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Rates are reported as whole operations per second. */
export function perSec(count: number, seconds: number): number {
  return Math.round(count / seconds);
}

/** Ratios keep three decimals. */
export function ratio(numerator: number, denominator: number): number {
  return Math.round((numerator / denominator) * 1000) / 1000;
}

/** Facts about the machine every result line carries; `load1` (taken at the end) flags a busy machine. */
export function environment(): {
  node: string;
  platform: string;
  arch: string;
  cpus: number;
  load1: number;
  git?: { commit: string; srcDirty: boolean };
} {
  const git = revision();
  return {
    ...(git ? { git } : {}),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpus: availableParallelism(),
    load1: Math.round(loadavg()[0]! * 100) / 100,
  };
}

/**
 * Which code was measured: the commit, and whether `src/` had uncommitted changes (other work in
 * progress changes the figures). Absent when git is not available.
 */
export function revision(): { commit: string; srcDirty: boolean } | undefined {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return {
      commit: git('rev-parse', '--short', 'HEAD'),
      srcDirty: git('status', '--porcelain', '--', 'src') !== '',
    };
  } catch {
    return undefined;
  }
}
