import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { openRuntime, type Runtime } from '../services/runtime.js';
import { CustodianError } from '../domain/errors.js';
import { authenticate, type Principal } from '../services/tokens.js';
import type { Store } from '../store/store.js';
import type { CliIO } from './io.js';

export function usage(message: string): CustodianError {
  return new CustodianError('ERR_USAGE_INVALID', message);
}

export function loadFor(io: CliIO, explicit: string | undefined): LoadedConfig {
  return loadConfig({ explicit, env: io.env, cwd: io.cwd });
}

export function parsePort(value: string, flag = '--port'): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535)
    throw usage(`${flag}: expected a port number 0-65535`);
  return Number(value);
}

/**
 * The acting principal for commands that decide something in a person's name (approvals,
 * reviews): the caller's own API key from `$CUSTODIAN_TOKEN`, so the second person of a
 * four-eyes decision is a different key, not whoever has shell access.
 */
export async function principalFromEnv(io: CliIO, store: Store): Promise<Principal> {
  const token = io.env['CUSTODIAN_TOKEN'];
  if (token === undefined || token === '') {
    throw new CustodianError(
      'ERR_AUTH_REQUIRED',
      'set CUSTODIAN_TOKEN to your own API key (custodian apikey create)',
    );
  }
  return authenticate(store, token.trim());
}

/** Opens the runtime for one command and closes it afterwards. */
export async function withRuntime<T>(
  io: CliIO,
  configPath: string | undefined,
  work: (runtime: Runtime, config: Config) => Promise<T>,
): Promise<T> {
  const { config } = loadFor(io, configPath);
  const runtime = await openRuntime(config);
  try {
    return await work(runtime, config);
  } finally {
    await runtime.close();
  }
}
