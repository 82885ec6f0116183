/** Where a command writes and what it reads of its environment; tests pass their own. */
export interface CliIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Whether stderr is a terminal (progress bars, colours). */
  readonly isTTY: boolean;
  /** Reads standard input to its end (`--password-stdin`); process stdin when absent. */
  readonly readStdin?: () => Promise<string>;
}

export function processIO(): CliIO {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY,
  };
}
