import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** Why a file could not be opened or written, in words; never its content. */
function fileReason(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EEXIST':
      return 'the file exists already; choose a new one';
    case 'ENOENT':
      return 'its folder does not exist';
    case 'ENOTDIR':
      return 'a part of its folder path is not a folder';
    case 'EISDIR':
      return 'it is a folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    default:
      return `it cannot be written (${code ?? 'unknown error'})`;
  }
}

/** An output file opened before the work that fills it; written once, or discarded. */
export interface OutputFile {
  /**
   * Writes `data`, flushes and closes. On failure removes the file if this command created it and
   * throws (exit 1), adding `lost` to the message: what the failure cost, if anything.
   */
  write(data: Uint8Array | string, lost?: string): void;
  /** Closes the file and removes it if this command created it (the work failed). */
  discard(): void;
}

/**
 * Opens the output file `path` (as given on the command line, relative to the working directory)
 * BEFORE any work that changes state, so a bad path is a usage error (exit 2, naming `flag`, the
 * path and the reason) that changes nothing. Without `replace`, an existing file is refused ('wx');
 * with it, an existing file is kept as it is until {@link OutputFile.write} replaces its content.
 */
export function openOutput(
  io: CliIO,
  flag: string,
  path: string,
  options: { mode: number; replace?: boolean },
): OutputFile {
  const full = resolve(io.cwd, path);
  let fd: number;
  let created = true;
  try {
    try {
      fd = openSync(full, 'wx', options.mode);
    } catch (error) {
      if (options.replace !== true || (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      fd = openSync(full, 'r+');
      created = false;
    }
  } catch (cause) {
    throw new CustodianError('ERR_USAGE_INVALID', `${flag} ${path}: ${fileReason(cause)}`, { cause });
  }
  let open = true;
  const close = (): void => {
    if (!open) return;
    open = false;
    try {
      closeSync(fd);
    } catch {
      // Closing is best effort once the command has failed.
    }
  };
  const remove = (): void => {
    try {
      unlinkSync(full);
    } catch {
      // Already gone.
    }
  };
  return {
    write(data, lost) {
      try {
        // Pipes and devices (`/dev/stdout`) can be neither truncated nor synced.
        const regular = fstatSync(fd).isFile();
        if (!created && regular) ftruncateSync(fd, 0);
        writeFileSync(fd, data);
        if (regular) fsyncSync(fd);
        open = false;
        closeSync(fd);
      } catch (cause) {
        close();
        if (created) remove();
        throw new CustodianError(
          'ERR_SERVER_INTERNAL',
          `${flag} ${path}: writing failed (${fileReason(cause)}); ${created ? 'the partial file was removed' : 'the file may be incomplete'}${lost === undefined ? '' : `; ${lost}`}`,
          { cause },
        );
      }
    },
    discard() {
      const wasOpen = open;
      close();
      if (wasOpen && created) remove();
    },
  };
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
