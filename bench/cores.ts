/**
 * `cores`: how much a second (third, …) core adds here to the work that bounds `log verify`.
 *
 * Every thread runs the same loop — per "entry" one SHA-256 over 350 bytes (a leaf) and one over
 * 65 bytes (a parent), through `crypto.hash` as the verifier calls it — first one thread alone
 * (the baseline), then one per core at once. Rounds alternate, the best of each is kept.
 * `speedup` = threads × alone ÷ slowest together: the number of cores' worth of this work the
 * machine delivers. A VM whose vCPUs share physical cores (or a busy host) shows well under the
 * core count, and every parallel target must be read against it.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { environment, note, perSec, ratio } from './lib/out.js';

/** Hash pairs per thread per run: about half a second of one core here. */
const PAIRS = 600_000;
const ROUNDS = 5;

/** Self-contained: the workers run it from its source text. Returns the loop's seconds. */
function hashLoop(pairs: number): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- runs as a CommonJS worker
  const { hash } = require('node:crypto') as { hash: (a: string, d: Uint8Array, e: string) => string };
  const leaf = Buffer.alloc(350, 0x61);
  const node = Buffer.alloc(65, 0x62);
  const started = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < pairs; i++) {
    leaf[1] = i & 0xff;
    sink += hash('sha256', leaf, 'latin1').length + hash('sha256', node, 'latin1').length;
  }
  if (sink !== pairs * 64) throw new Error('unexpected digest length');
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
parentPort.postMessage((${hashLoop.toString()})(workerData));
`;

/** Starts `threads` workers together (each waits for the others to be up) and returns their loop times. */
async function together(threads: number): Promise<number[]> {
  const workers = Array.from(
    { length: threads },
    () => new Worker(SOURCE, { eval: true, workerData: PAIRS }),
  );
  try {
    return await Promise.all(
      workers.map(
        (worker) =>
          new Promise<number>((resolve, reject) => {
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function cores(): Promise<Record<string, unknown>> {
  if (typeof (await import('node:crypto')).hash !== 'function')
    throw new Error('cores needs crypto.hash (Node 20.12 or later)');
  const threads = availableParallelism();
  note(`cores: ${PAIRS} hash pairs per thread, 1 thread then ${threads} together, ${ROUNDS} rounds`);
  const alone: number[] = [];
  const parallel: number[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    alone.push((await together(1))[0]!);
    parallel.push(await together(threads));
  }
  // Each round pairs a run alone with the run together right after it; the rounds differ as the
  // host's load does, so the best and the median round are both reported.
  const speedups = alone.map((a, i) => (threads * a) / Math.max(...parallel[i]!)).sort((a, b) => a - b);
  const best = Math.min(...alone);
  const slowest = Math.min(...parallel.map((r) => Math.max(...r)));
  return {
    bench: 'cores',
    threads,
    pairsPerThread: PAIRS,
    alone: { seconds: Math.round(best * 1000) / 1000, pairsPerSec: perSec(PAIRS, best) },
    together: { seconds: Math.round(slowest * 1000) / 1000, pairsPerSec: perSec(threads * PAIRS, slowest) },
    // Against the baseline (one thread alone): what each thread keeps, and what all of them add up to.
    perThread: ratio(best, slowest),
    speedup: {
      best: ratio(speedups.at(-1)!, 1),
      median: ratio(speedups[Math.floor(speedups.length / 2)]!, 1),
    },
    samples: {
      alone: alone.map((s) => Math.round(s * 1000) / 1000),
      together: parallel.map((r) => r.map((s) => Math.round(s * 1000) / 1000)),
    },
    ...environment(),
  };
}
