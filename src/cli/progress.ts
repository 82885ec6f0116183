import cliProgress from 'cli-progress';
import type { CliIO } from './io.js';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

/**
 * A progress bar with rate and ETA on a terminal; on a pipe or in CI, one plain line at most
 * every two seconds, so logs stay readable.
 */
export function progress(io: CliIO, label: string): Progress {
  if (io.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted}`,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let running = false;
    return {
      update(done, total) {
        const speed = Math.round(done / Math.max((Date.now() - started) / 1000, 0.001));
        if (!running) {
          bar.start(total, done, { speed });
          running = true;
        } else {
          bar.setTotal(total);
          bar.update(done, { speed });
        }
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  const started = Date.now();
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 2000 && done < total) return;
      last = now;
      const rate = Math.round(done / Math.max((now - started) / 1000, 0.001));
      io.err(
        `${label}: ${done}/${total} (${total === 0 ? 100 : Math.floor((100 * done) / total)}%, ${rate}/s)\n`,
      );
    },
    stop: () => undefined,
  };
}
