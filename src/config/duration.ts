import { z } from 'zod';

/** A span of time as people write it in config and on the command line: `30d`, `12h`, `90m`. */
const DURATION = /^([1-9]\d{0,5})(d|h|m)$/;

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d` → milliseconds; `undefined` for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

export const durationSchema = z.string().regex(DURATION, 'a duration such as 365d, 12h or 90m');
