/** What one timed run cost: wall-clock seconds and this process's CPU time (user + system). */
export interface Cost {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/**
 * Times `work` with the monotonic clock and `process.cpuUsage()`. On a shared machine the CPU
 * figure is the steadier one: time spent waiting for a core counts in `seconds` only.
 */
export async function timed(work: () => Promise<void>): Promise<Cost> {
  const started = start();
  await work();
  return started.cost();
}

/** {@link timed} for synchronous work. */
export function timedSync(work: () => void): Cost {
  const started = start();
  work();
  return started.cost();
}

function start(): { cost(): Cost } {
  const cpu = process.cpuUsage();
  const at = process.hrtime.bigint();
  return {
    cost() {
      const seconds = Number(process.hrtime.bigint() - at) / 1e9;
      const used = process.cpuUsage(cpu);
      return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
    },
  };
}

/** Splits `items` into consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
