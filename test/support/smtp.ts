import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface SmtpSink {
  readonly port: number;
  /** Messages received so far (raw RFC 5322 text and envelope). */
  readonly messages: { from: string; to: string[]; raw: string }[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the SMTP sink (test/support/smtp-sink.mjs) as its own process. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const child: ChildProcess = spawn(
    process.execPath,
    [fileURLToPath(new URL('./smtp-sink.mjs', import.meta.url)), '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const messages: SmtpSink['messages'] = [];
  let buffered = '';
  let resolvePort: (port: number) => void = () => undefined;
  const port = new Promise<number>((resolve) => (resolvePort = resolve));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const m = /^listening (\d+)$/.exec(line);
      if (m) resolvePort(Number(m[1]));
      else if (line.trim()) messages.push(JSON.parse(line) as SmtpSink['messages'][number]);
    }
  });
  return {
    port: await port,
    messages,
    async waitFor(count, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > until) throw new Error(`expected ${count} messages, got ${messages.length}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
