#!/usr/bin/env node
// Runs the vitest suite and closes with one line CI can read: "N passed, N failed, N skipped".
// Usage: node scripts/test.mjs [--summary FILE] [vitest args...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let summaryFile;
const i = args.indexOf('--summary');
if (i >= 0) {
  summaryFile = args[i + 1];
  args.splice(i, 2);
}
const report = join(root, `.vitest-${process.pid}.json`);
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  failed = result.numFailedTests + (result.numRuntimeErrorTestSuites ?? 0);
  skipped = result.numPendingTests + result.numTodoTests;
  // A suite that failed to load counts as a failure even when it had no tests.
  for (const suite of result.testResults ?? [])
    if (suite.status === 'failed' && suite.assertionResults.length === 0) failed++;
  rmSync(report, { force: true });
} catch {
  failed = Math.max(failed, 1);
}
const code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1;
if (summaryFile) {
  mkdirSync(dirname(summaryFile), { recursive: true });
  writeFileSync(summaryFile, JSON.stringify({ node: process.version, passed, failed, skipped }));
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(code);
