import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Copies SQLite's committed WAL frames into the database file from a thread of its own.
 *
 * In WAL mode the connection that commits past `wal_autocheckpoint` pages runs the checkpoint
 * itself, inside that commit: it copies about a thousand pages and syncs the file (about half of
 * what commits cost in a profile of `collect`). With a checkpointer, the writers only append to
 * the WAL: this thread runs `wal_checkpoint(PASSIVE)` every {@link CHECKPOINT_INTERVAL_MS} on its
 * own connection, which never waits for and never blocks readers or writers. The writers keep a
 * high `wal_autocheckpoint` as a backstop, and go back to SQLite's default if this thread fails.
 */
export interface WalCheckpointerOptions {
  /** The database file (WAL mode already set: `journal_mode` is stored in the file). */
  readonly path: string;
  /** Milliseconds between checkpoints; default {@link CHECKPOINT_INTERVAL_MS}. */
  readonly intervalMs?: number;
  /** Called once when the thread fails (it cannot open the file, an I/O error…), not when stopped. */
  readonly onFailure: (error: unknown) => void;
}

/** Where SQLite's WAL checkpoints run: in the committing transaction (SQLite's way) or in a thread. */
export type WalCheckpoints = 'inline' | 'background';

/**
 * Two seconds between checkpoints. A checkpoint copies each page the WAL holds once, however many
 * commits wrote it since the last one, so a longer interval copies fewer pages: interior pages of
 * every index, the last pages of the append-only tables, the leaves that random index keys
 * revisit. A large import writes the same pages again and again; at a million Tmall rows the
 * import took 0.86–0.88 of the time with a checkpoint every 2 s as with one every 20 ms (166.7
 * against 193.8 s, and 200.9 against 229.0 s later on a slower hour of the same VM), and the
 * thread's copying competes with the import's two threads for the machine's cores
 * (BENCHMARKS.md, "Third session of 2026-11-30"). The price is a longer WAL (see {@link BACKSTOP_PAGES}).
 */
export const CHECKPOINT_INTERVAL_MS = 2000;
/**
 * No commit for this many looks in a row (100 s at the default interval) is idle; an import or a
 * busy server commits far more often than that.
 */
export const IDLE_AFTER = 50;
/** An idle WAL is looked at this many times less often (every 20 s at the default interval). */
export const IDLE_FACTOR = 10;
/**
 * The writers' own checkpoint threshold while a checkpointer runs: 1 GiB of WAL at 4 KiB pages.
 * SQLite restarts the WAL from its start only after a checkpoint has copied every frame in it.
 * Under a long import the writers commit while the thread copies, so its checkpoints rarely catch
 * up and the WAL grows until a commit crosses this threshold: that commit copies the frames
 * the thread has not, and the WAL restarts. A million-row import's WAL peaked at about 1.1 GB; with
 * the threshold at a million pages it reached 4.1 GB, and the import was no faster.
 */
export const BACKSTOP_PAGES = 262_144;
/** SQLite's default, for writers without a checkpointer. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/** CommonJS, evaluated in the thread: it needs nothing but better-sqlite3, whose path it is given. */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
// Answers busy (no error) while another connection checkpoints: this one skips that turn.
const checkpoint = db.prepare('pragma wal_checkpoint(PASSIVE)');
// Changes whenever another connection commits (this one only reads and checkpoints).
const version = db.prepare('pragma data_version').pluck();
const base = workerData.intervalMs;
let wait = base;
let seen;
let behind = true;
let unchanged = 0;
let ticks = 0;
let timer;
const tick = () => {
  ticks++;
  const now = version.get();
  if (now !== seen || behind) {
    seen = now;
    const r = checkpoint.get();
    // Frames the checkpoint could not copy yet (a reader holds them, or another checkpoint ran).
    behind = r.busy !== 0 || r.log !== r.checkpointed;
    unchanged = 0;
  } else unchanged++;
  // No commit for IDLE_AFTER looks in a row: idle. Look half as often, down to one look every
  // IDLE_FACTOR intervals; the first commit brings the interval back.
  wait = unchanged >= ${IDLE_AFTER} ? Math.min(wait * 2, base * ${IDLE_FACTOR}) : base;
  timer = setTimeout(tick, wait);
};
timer = setTimeout(tick, base);
parentPort.once('message', () => {
  clearTimeout(timer);
  db.close();
  parentPort.postMessage({ ticks });
  parentPort.close();
});
`;

export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #stopping = false;
  #ticks = 0;

  constructor(options: WalCheckpointerOptions) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(SOURCE, {
      eval: true,
      workerData: {
        driver,
        path: options.path,
        intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
      },
    });
    // A store left open must not keep the process alive for its checkpointer.
    this.#worker.unref();
    let failed = false;
    const fail = (error: unknown): void => {
      if (failed || this.#stopping) return;
      failed = true;
      options.onFailure(error);
    };
    this.#worker.on('error', fail);
    this.#worker.on('message', (m: unknown) => {
      const ticks = (m as { ticks?: unknown } | null)?.ticks;
      if (typeof ticks === 'number') this.#ticks = ticks;
    });
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', (code) => {
        fail(new Error(`the WAL checkpointer stopped (exit code ${code})`));
        resolve();
      }),
    );
  }

  /**
   * Stops the thread after its current checkpoint and closes its connection; resolves to how many
   * times it looked at the WAL.
   */
  async stop(): Promise<{ readonly ticks: number }> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#worker.ref(); // or the process could end while this waits for the thread
      this.#worker.postMessage('stop');
    }
    await this.#exited;
    return { ticks: this.#ticks };
  }
}
