import { loadConfig, type LoadedConfig } from '../config/load.js';
import { CustodianError } from '../domain/errors.js';
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
